import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import { testUrls } from '@switchboard/testing';

/**
 * CPU time (user + system) spent by each part of the system, read from /proc, so a run can say
 * where the machine's cores went per message, and whether something else was using them.
 * Postgres counts the backends of the bench's database and the server's own processes (WAL
 * writer, checkpointer: shared, so they include others' writes), not other databases' backends
 * or autovacuum workers; RabbitMQ (the Erlang VM listening on AMQP_URL's port, when several
 * nodes run on the machine) and Redis are counted whole, so they include anyone else's traffic on those shared servers. `machine` is every
 * core's busy time; what it has beyond ours is the kernel's work for us (loopback networking,
 * disk flushes) plus other people's processes. Off Linux the figures are simply absent.
 */
export interface CpuSample {
  at: number;
  parts: Record<string, number>;
  /**
   * The shared servers' processes by pid (part and CPU so far): a backend or autovacuum worker
   * can exit between two samples, so their use is summed per process over the ones still alive,
   * not as the difference of two totals (which went negative when one with a long past exited).
   */
  procs: Record<string, { part: string; ms: number; switches: number }>;
  /** Context switches (voluntary + involuntary, all threads) of each named service so far. */
  switches: Record<string, number>;
  machine: number | undefined;
}

export interface CpuUse {
  /**
   * CPU milliseconds per message by part, `ours` their sum, `total` the same without the bench
   * process (the load generator and collector), `other` the rest of the machine.
   */
  msPerMessage: Record<string, number>;
  /** Context switches per message of the services and servers (all their threads); null off Linux. */
  switchesPerMessage: number | null;
  /** Average cores busy over the window: ours, the whole machine, and how many there are. */
  cores: { ours: number; machine: number | null; available: number };
}

const TICK_MS = 10; // USER_HZ is 100 on every Linux we run on (getconf CLK_TCK)

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function procMs(pid: string): { comm: string; ms: number } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12th and 13th after the command name.
  return { comm: stat.slice(stat.indexOf('(') + 1, close), ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
}

/**
 * Context switches of every thread of a process: /proc/<pid>/status counts only the thread it
 * names, and Node, the Erlang VM and Redis do their work on several.
 */
function switchesOf(pid: string): number {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let n = 0;
  for (const tid of tasks) {
    const status = read(`/proc/${pid}/task/${tid}/status`);
    for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) n += Number(m[1]);
  }
  return n;
}

/** Busy time of all cores: everything but idle and iowait. */
function machineMs(): number | undefined {
  const line = read('/proc/stat').split('\n')[0] ?? '';
  if (!line.startsWith('cpu ')) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * TICK_MS;
}

/** Listening TCP sockets' inodes on `port`, from /proc/net/tcp and tcp6 (state 0A is LISTEN). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of read(table).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

const brokerPids = new Map<number, string | null>();

/**
 * The pid of the Erlang VM that listens on the bench's AMQP port, so a second node on the same
 * machine (one started to try a setting) is neither counted with it nor counted instead of it.
 * Null when it cannot be told (no /proc/net, fds not readable): every `beam.smp` counts then.
 */
function brokerPid(beams: string[]): string | null {
  const port = Number(new URL(testUrls.amqp).port || 5672);
  if (brokerPids.has(port)) return brokerPids.get(port) ?? null;
  const sockets = [...listeningInodes(port)].map((inode) => `socket:[${inode}]`);
  let found: string | null = null;
  for (const pid of beams) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    if (
      fds.some((fd) => {
        try {
          return sockets.includes(readlinkSync(`/proc/${pid}/fd/${fd}`));
        } catch {
          return false;
        }
      })
    ) {
      found = pid;
      break;
    }
  }
  // Only remembered once found: the broker may not have been up at the first sample.
  if (found !== null) brokerPids.set(port, found);
  return found;
}

/** `services` maps a name to a pid; `bench` is this process; postgres and rabbitmq by command name. */
export function sampleCpu(database: string, services: Record<string, number | undefined> = {}): CpuSample {
  const usage = process.cpuUsage();
  const parts: Record<string, number> = { bench: (usage.user + usage.system) / 1000 };
  const switches: Record<string, number> = {};
  for (const [name, pid] of Object.entries(services)) {
    const t = pid === undefined ? undefined : procMs(String(pid));
    if (t) parts[name] = t.ms;
    if (t && pid !== undefined) switches[name] = switchesOf(String(pid));
  }
  const procs: CpuSample['procs'] = {};
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return { at: performance.now(), parts, procs, switches, machine: undefined };
  }
  const server = (pid: string, part: string, ms: number) => {
    procs[pid] = { part, ms, switches: switchesOf(pid) };
  };
  const beams = pids.filter((pid) => read(`/proc/${pid}/comm`).trim() === 'beam.smp');
  const broker = beams.length > 1 ? brokerPid(beams) : null;
  for (const pid of pids) {
    const t = procMs(pid);
    if (t?.comm === 'postgres') {
      // A backend's title names its database and client ("… user db 127.0.0.1(5432) idle").
      // Server processes without a client are counted, but not an autovacuum worker busy with
      // another database (its title names it): other people's test databases are vacuumed too.
      const title = read(`/proc/${pid}/cmdline`);
      const elsewhere = title.includes('autovacuum worker') && !title.includes(database);
      if (title.includes(database) || (!title.includes('(') && !elsewhere)) server(pid, 'postgres', t.ms);
    } else if (t?.comm === 'beam.smp') {
      if (broker === null || broker === pid) server(pid, 'rabbitmq', t.ms);
    } else if (t?.comm === 'redis-server') server(pid, 'redis', t.ms);
  }
  return { at: performance.now(), parts, procs, switches, machine: machineMs() };
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;
const r2 = (v: number) => Math.round(v * 100) / 100;

export function cpuUse(before: CpuSample, after: CpuSample, messages: number): CpuUse {
  const per = (ms: number) => r3(ms / Math.max(1, messages));
  const msPerMessage: Record<string, number> = {};
  let ours = 0;
  for (const [name, end] of Object.entries(after.parts)) {
    const start = before.parts[name];
    if (start === undefined) continue;
    ours += end - start;
    msPerMessage[name] = per(end - start);
  }
  // The servers' processes alive at the end: what each used since the first sample (all of it
  // for one started since). One that exited in between is not counted: its share is unknown.
  const servers: Record<string, number> = { postgres: 0, rabbitmq: 0, redis: 0 };
  let switches = 0;
  for (const [pid, { part, ms, switches: s }] of Object.entries(after.procs)) {
    servers[part] = (servers[part] ?? 0) + ms - (before.procs[pid]?.ms ?? 0);
    switches += s - (before.procs[pid]?.switches ?? 0);
  }
  for (const [name, s] of Object.entries(after.switches)) switches += s - (before.switches[name] ?? 0);
  for (const [name, ms] of Object.entries(servers)) {
    ours += ms;
    msPerMessage[name] = per(ms);
  }
  msPerMessage.ours = per(ours);
  // What users pay for: every process of the system, servers included, the load generator not.
  msPerMessage.total = per(ours - (after.parts.bench ?? 0) + (before.parts.bench ?? 0));
  const wall = Math.max(1, after.at - before.at);
  const machine =
    before.machine === undefined || after.machine === undefined ? undefined : after.machine - before.machine;
  if (machine !== undefined) msPerMessage.other = per(Math.max(0, machine - ours));
  return {
    msPerMessage,
    switchesPerMessage: after.machine === undefined ? null : Math.round((10 * switches) / Math.max(1, messages)) / 10,
    cores: {
      ours: r2(ours / wall),
      machine: machine === undefined ? null : r2(machine / wall),
      available: cpus().length,
    },
  };
}
