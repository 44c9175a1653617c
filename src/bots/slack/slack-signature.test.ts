import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixture } from './__fixtures__/slack-stand-in.ts';
import { checkSlackSignature, signSlackRequest, slackReplayWindowSeconds } from './slack-signature.ts';

const example = fixture<{ signingSecret: string; timestamp: number; body: string; signature: string }>(
  'signed-request-example.json',
);

function check(overrides: Partial<Parameters<typeof checkSlackSignature>[0]> = {}) {
  return checkSlackSignature({
    signingSecret: example.signingSecret,
    rawBody: Buffer.from(example.body),
    signature: example.signature,
    timestamp: String(example.timestamp),
    nowSeconds: example.timestamp + 10,
    ...overrides,
  });
}

describe('Slack request signatures', () => {
  it("signs Slack's own worked example to the signature Slack documents", () => {
    expect(signSlackRequest(example.signingSecret, example.timestamp, example.body)).toBe(example.signature);
    expect(check()).toBeUndefined();
  });

  it('refuses a changed body, another secret, or a signature of another timestamp', () => {
    expect(check({ rawBody: Buffer.from(`${example.body}&text=hi`) })).toBe('bad_signature');
    expect(check({ signingSecret: 'another-secret' })).toBe('bad_signature');
    expect(check({ timestamp: String(example.timestamp + 1) })).toBe('bad_signature');
    expect(check({ signature: 'v0=short' })).toBe('bad_signature');
  });

  it('refuses requests outside the five-minute window, in the past or the future', () => {
    const edge = example.timestamp + slackReplayWindowSeconds;
    expect(check({ nowSeconds: edge })).toBeUndefined();
    expect(check({ nowSeconds: edge + 1 })).toBe('stale_timestamp');
    expect(check({ nowSeconds: example.timestamp - slackReplayWindowSeconds - 1 })).toBe('stale_timestamp');
  });

  it('refuses missing or malformed headers', () => {
    expect(check({ signature: undefined })).toBe('missing_headers');
    expect(check({ timestamp: undefined })).toBe('missing_headers');
    expect(check({ timestamp: '1531420618.5' })).toBe('missing_headers');
  });

  it('accepts exactly what it signed, for any body and secret', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.uint8Array(), fc.nat(2_000_000_000), (secret, body, at) => {
        const rawBody = Buffer.from(body);
        const signature = signSlackRequest(secret, at, rawBody);
        const verdict = checkSlackSignature({
          signingSecret: secret,
          rawBody,
          signature,
          timestamp: String(at),
          nowSeconds: at,
        });
        return verdict === undefined;
      }),
    );
  });
});
