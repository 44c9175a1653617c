/** `npm run discord:register` (being written): registers the slash commands from their definitions. */
process.stderr.write('discord:register is being written\n');
process.exitCode = 1;
