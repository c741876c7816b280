import { isReplySubject, normalizeSubject } from './email-threading.ts';

/**
 * Jamie Zawinski's threading algorithm (https://www.jwz.org/doc/threading.html) over plain data:
 * builds the reply trees of a set of messages from their ids and ancestor chains. Handles
 * missing parents (an empty container holds their children), reference loops (a link that would
 * close a cycle is not made) and duplicate Message-IDs (the second copy gets a container of its
 * own). A message's own chain decides its parent, whatever other messages claimed.
 */

export interface ThreadInput<T> {
  id: string;
  subject?: string | null;
  /** Ancestors oldest first (see `ancestorChain`). */
  references: readonly string[];
  message: T;
}

export interface ThreadNode<T> {
  /** The Message-ID this node stands for; the message is null when only others cited it. */
  id: string;
  message: T | null;
  subject: string | null;
  children: ThreadNode<T>[];
}

interface Container<T> extends ThreadNode<T> {
  parent: Container<T> | null;
  children: Container<T>[];
}

const make = <T>(id: string): Container<T> => ({ id, message: null, subject: null, children: [], parent: null });

function isAncestor<T>(a: Container<T>, b: Container<T>): boolean {
  for (let c: Container<T> | null = b; c; c = c.parent) if (c === a) return true;
  return false;
}

function unlink<T>(c: Container<T>): void {
  if (!c.parent) return;
  c.parent.children = c.parent.children.filter((x) => x !== c);
  c.parent = null;
}

function link<T>(parent: Container<T>, child: Container<T>): void {
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
}

/** Step 4: drop empty containers, promote the children of empty ones (at the root only when one). */
function prune<T>(c: Container<T>, isRoot: boolean): Container<T>[] {
  const kids = c.children.flatMap((k) => prune(k, false));
  c.children = [];
  for (const k of kids) link(c, k);
  if (c.message !== null) return [c];
  if (c.children.length === 0) return [];
  if (!isRoot || c.children.length === 1) {
    const promoted = [...c.children];
    for (const k of promoted) unlink(k);
    return promoted;
  }
  return [c];
}

const subjectOf = <T>(c: Container<T>): string => c.subject ?? c.children[0]?.subject ?? '';

/** Step 5: roots with the same normalized subject are gathered (JWZ's subject fallback). */
function groupBySubject<T>(roots: Container<T>[]): Container<T>[] {
  const table = new Map<string, Container<T>>();
  for (const r of roots) {
    const key = normalizeSubject(subjectOf(r));
    if (key === '') continue;
    const seen = table.get(key);
    if (!seen || (seen.message !== null && r.message === null)) table.set(key, r);
  }
  const out: Container<T>[] = [];
  for (const r of roots) {
    const key = normalizeSubject(subjectOf(r));
    const head = key === '' ? undefined : table.get(key);
    if (!head || head === r) {
      out.push(r);
      continue;
    }
    if (head.message === null && r.message === null) {
      for (const k of [...r.children]) link(head, k);
    } else if (head.message === null) {
      link(head, r);
    } else if (r.message === null) {
      // The empty container becomes the head of the group.
      link(r, head);
      out[out.indexOf(head)] = r;
      table.set(key, r);
    } else if (!isReplySubject(head.subject) && isReplySubject(r.subject)) {
      link(head, r);
    } else if (isReplySubject(head.subject) && !isReplySubject(r.subject)) {
      link(r, head);
      out[out.indexOf(head)] = r;
      table.set(key, r);
    } else {
      const holder = make<T>(`subject:${key}`);
      const at = out.indexOf(head);
      link(holder, head);
      link(holder, r);
      out[at] = holder;
      table.set(key, holder);
    }
  }
  return out;
}

export function threadMessages<T>(
  messages: readonly ThreadInput<T>[],
  opts: { groupBySubject?: boolean } = {},
): ThreadNode<T>[] {
  const table = new Map<string, Container<T>>();
  const get = (id: string) => {
    let c = table.get(id);
    if (!c) {
      c = make<T>(id);
      table.set(id, c);
    }
    return c;
  };
  for (const m of messages) {
    let self = get(m.id);
    if (self.message !== null) {
      // A duplicate Message-ID: keep both messages, the copy in a container of its own.
      let n = 2;
      while (table.has(`${m.id}#${n}`)) n++;
      self = get(`${m.id}#${n}`);
    }
    self.message = m.message;
    self.subject = m.subject ?? null;
    let prev: Container<T> | null = null;
    for (const ref of m.references) {
      const c = get(ref);
      // Existing links stay; a link that would make a loop is not made.
      if (prev && c.parent === null && c !== self && !isAncestor(c, prev)) link(prev, c);
      prev = c;
    }
    if (prev && prev !== self && !isAncestor(self, prev)) link(prev, self);
    else if (!prev) unlink(self);
  }
  const roots = [...table.values()].filter((c) => c.parent === null).flatMap((c) => prune(c, true));
  return strip(opts.groupBySubject ? groupBySubject(roots) : roots);
}

function strip<T>(nodes: Container<T>[]): ThreadNode<T>[] {
  return nodes.map((c) => ({ id: c.id, message: c.message, subject: c.subject, children: strip(c.children) }));
}
