import { describe, expect, it } from 'vitest';
import { type ThreadNode, threadMessages } from './email-thread-tree.ts';
import { ancestorChain, decodeEncodedWords, normalizeSubject, parseMessageIds } from './email-threading.ts';
import fixture from './fixtures/jwz-threading.json' with { type: 'json' };

interface Shape {
  id: string;
  message: boolean;
  children: Shape[];
}
const shape = (nodes: ThreadNode<unknown>[]): Shape[] =>
  nodes.map((n) => ({ id: n.id, message: n.message !== null, children: shape(n.children) }));

describe(`JWZ threading suite (${fixture.source.repository} ${fixture.source.path})`, () => {
  it.each(fixture.cases)('$name', (c) => {
    const roots = threadMessages(
      c.messages.map((m) => ({ ...m, message: m.id })),
      { groupBySubject: c.groupBySubject },
    );
    expect(shape(roots)).toEqual(c.expected);
  });

  it.each(fixture.headers)('$name: header parsing', (h) => {
    const chain = ancestorChain({
      messageId: parseMessageIds(h.messageId)[0] ?? '',
      references: parseMessageIds(h.references),
      inReplyTo: parseMessageIds(h.inReplyTo),
    });
    expect(chain).toEqual(h.chain);
  });

  it('test_deep_container: a 100-deep chain threads as one path', () => {
    const ids = Array.from({ length: 101 }, (_, i) => `m${i}`);
    const roots = threadMessages(ids.map((id, i) => ({ id, references: ids.slice(0, i), message: id })));
    expect(roots).toHaveLength(1);
    let depth = 0;
    for (let n = roots[0]; n && n.children.length > 0; n = n.children[0]) depth++;
    expect(depth).toBe(100);
  });
});

describe('threading: our cases', () => {
  it('ignores a reference loop instead of looping', () => {
    const roots = threadMessages([
      { id: 'a', references: ['b'], message: 'a' },
      { id: 'b', references: ['a'], message: 'b' },
    ]);
    expect(shape(roots)).toEqual([{ id: 'b', message: true, children: [{ id: 'a', message: true, children: [] }] }]);
  });

  it('keeps both messages of a duplicate Message-ID', () => {
    const roots = threadMessages([
      { id: 'a', references: [], message: 1 },
      { id: 'a', references: [], message: 2 },
    ]);
    expect(roots.map((r) => r.message)).toEqual([1, 2]);
  });

  it('a message citing itself is a root', () => {
    const chain = ancestorChain({ messageId: 'x', references: ['x'], inReplyTo: ['x'] });
    expect(chain).toEqual([]);
  });

  it('takes both ids of a two-id In-Reply-To, after References', () => {
    expect(ancestorChain({ messageId: 'c', references: ['a'], inReplyTo: parseMessageIds('<b@x> <a>') })).toEqual([
      'a',
      'b@x',
    ]);
  });

  it('groups a changed-subject-less reply by subject only when asked', () => {
    const msgs = [
      { id: 'a', subject: 'Offer', references: [], message: 'a' },
      { id: 'b', subject: 'RE: Offer', references: [], message: 'b' },
    ];
    expect(threadMessages(msgs)).toHaveLength(2);
    expect(shape(threadMessages(msgs, { groupBySubject: true }))).toEqual([
      { id: 'a', message: true, children: [{ id: 'b', message: true, children: [] }] },
    ]);
  });
});

describe('normalizeSubject', () => {
  it.each([
    ['Re: Offer', 'offer'],
    ['RE: Re: FWD: Offer', 'offer'],
    ['AW: WG: Angebot', 'angebot'],
    ['SV: Tilbud', 'tilbud'],
    ['TR: Offre', 'offre'],
    ['Re[2]: Offer', 'offer'],
    ['[sales] Re: Offer', 'offer'],
    ['Fwd: Offer (fwd)', 'offer'],
    ['=?UTF-8?B?UmU6IEFuZ2Vib3Qgw7xiZXI=?=', 'angebot über'],
    ['=?ISO-8859-1?Q?AW:_Angebot_f=FCr_Sie?=', 'angebot für sie'],
    ['  Offer   for   you ', 'offer for you'],
    ['Report: Q3', 'report: q3'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeSubject(input)).toBe(expected);
  });

  it('decodes adjacent encoded words without the space between them', () => {
    expect(decodeEncodedWords('=?UTF-8?Q?a?= =?UTF-8?Q?b?=')).toBe('ab');
  });
});

describe('parseMessageIds', () => {
  it.each<[string | undefined, string[]]>([
    ['<a@x> <b@x>', ['a@x', 'b@x']],
    ['<a@x>\r\n\t<b@x> <a@x>', ['a@x', 'b@x']],
    ['a@x', ['a@x']],
    ['', []],
    [undefined, []],
  ])('%j', (input, expected) => {
    expect(parseMessageIds(input)).toEqual(expected);
  });
});
