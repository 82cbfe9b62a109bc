/**
 * Extra compose boxes (edit box, thread reply box) declared by a custom adapter in policy: the
 * declaration is untrusted input, every problem is reported, and Chromium's managed schema keeps it.
 */
import { describe, expect, it } from 'vitest';
import { adapterFromSpec, type CustomAdapterSpec, validateCustomAdapterSpec } from '../../lib/adapters/custom';
import { composersOf } from '../../lib/adapters/types';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import { validate } from '../../lib/policy/validate.generated';

const SPEC: CustomAdapterSpec = {
  name: 'Acme Chat',
  selectors: { composer: ['.compose'], message: ['.post'], messageText: ['.body'] },
  authorAttribute: 'data-author',
  conversationId: { from: 'constant', value: 'room' },
  currentUser: { from: 'constant', value: 'alice' },
  maxMessageChars: 400,
  extraComposers: [
    { kind: 'edit', composer: ['textarea.edit'], sendButton: ['button.save'], sendTrigger: 'click' },
    { kind: 'thread', composer: ['.thread [contenteditable="true"]'], composerStrategy: 'paste' },
  ],
};

describe('extra composers', () => {
  it('a valid declaration becomes composer specs with defaults, the main composer first', () => {
    const specs = composersOf(adapterFromSpec(SPEC));
    expect(specs.map((s) => [s.kind, s.composerStrategy, s.sendTrigger])).toEqual([
      ['main', 'auto', 'enter'],
      ['edit', 'auto', 'click'],
      ['thread', 'paste', 'enter'],
    ]);
    expect(specs[2]!.sendButton).toEqual([]);
  });

  it('every problem of an extra composer is reported', () => {
    const bad = {
      ...SPEC,
      extraComposers: [
        { kind: 'reaction', composer: [], sendTrigger: 'click', colour: 'red' },
        { kind: 'edit', composer: ['[['], composerStrategy: 'magic' },
        'edit box',
      ],
    };
    const check = validateCustomAdapterSpec(bad);
    expect(check.ok).toBe(false);
    const errors = check.ok ? [] : check.errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        'unknown field "extraComposers[0].colour"',
        'extraComposers[0].kind must be one of edit, thread, other',
        'extraComposers[0].composer must be a non-empty list of CSS selectors',
        'extraComposers[0]: sendTrigger "click" needs sendButton',
        'extraComposers[1].composerStrategy must be one of auto, textarea, contenteditable, beforeinput, paste',
        'extraComposers[2] must be an object',
      ]),
    );
    expect(validateCustomAdapterSpec({ ...SPEC, extraComposers: {} }).ok).toBe(false);
  });

  it('the managed policy schema accepts the declaration', () => {
    const policy = { protectedSites: [{ adapter: 'custom', matches: ['https://acme.example/*'], custom: SPEC }] };
    expect((validate as (d: unknown) => boolean)(policy)).toBe(true);
  });

  it('the fixture chat declares its edit box and thread reply box', () => {
    expect(composersOf(fixtureChat).map((s) => s.kind)).toEqual(['main', 'edit', 'thread']);
  });
});
