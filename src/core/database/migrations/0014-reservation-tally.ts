/**
 * The counter a hold's charge is also added to when it settles (a chat place's images per person, for
 * `/imagine-admin usage`), so that count is exactly what the ledger charged, in the same transaction.
 */
export const reservationTallySchema = `
ALTER TABLE reservations ADD COLUMN tally TEXT;
`;
