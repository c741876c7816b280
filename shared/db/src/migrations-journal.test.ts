import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../migrations/', import.meta.url);
const journal = JSON.parse(readFileSync(new URL('meta/_journal.json', dir), 'utf8')) as {
  entries: Array<{ idx: number; when: number; tag: string }>;
};

/**
 * drizzle's migrator applies, on a database already migrated, only the entries whose `when` is later
 * than the last one it applied: an entry dated before its predecessor (two branches' migrations
 * merged and renumbered) would be skipped on every existing database, though a fresh one gets it.
 */
describe('the migrations journal', () => {
  it('numbers its entries 0, 1, 2, … and names each after its number', () => {
    journal.entries.forEach((e, i) => {
      expect(e.idx).toBe(i);
      expect(e.tag.slice(0, 4)).toBe(String(i).padStart(4, '0'));
    });
  });

  it('dates every entry strictly later than the one before', () => {
    const late = journal.entries.filter((e, i) => i > 0 && e.when <= (journal.entries[i - 1]?.when ?? 0));
    expect(late.map((e) => e.tag)).toEqual([]);
  });

  it('has one SQL file per entry and no other', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
    expect(files.sort()).toEqual(journal.entries.map((e) => `${e.tag}.sql`).sort());
  });
});
