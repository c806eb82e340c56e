import { readdir, readFile, readlink } from 'node:fs/promises';

/** A process listening on a TCP port, as /proc tells it. */
export interface PortHolder {
  pid: number;
  /** The process's name (/proc/PID/comm). */
  command: string;
}

/** What /proc says about the listeners on a port: their processes, when this user may see them. */
export interface PortListeners {
  /** Some socket listens on the port (from /proc/net/tcp and tcp6). */
  listening: boolean;
  /** The processes holding those sockets that could be seen (another user's need root). */
  holders: PortHolder[];
}

const LISTEN_STATE = '0A';

/**
 * Who listens on TCP `port`, from /proc/net/tcp{,6} (the sockets' inodes) and /proc/PID/fd (which process holds
 * each inode). Linux only; elsewhere, or when /proc cannot be read, null: the caller says how to find out instead.
 */
export async function findPortListeners(port: number, proc = '/proc'): Promise<PortListeners | null> {
  const tables = await Promise.all(['tcp', 'tcp6'].map((file) => readFile(`${proc}/net/${file}`, 'utf8').catch(() => null)));
  if (tables.every((t) => t === null)) return null;
  const inodes = new Set(tables.flatMap((table) => (table === null ? [] : listeningInodes(table, port))));
  if (inodes.size === 0) return { listening: false, holders: [] };
  const pids = (await readdir(proc).catch(() => [] as string[])).filter((entry) => /^\d+$/.test(entry));
  const holders: PortHolder[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      const fds = await readdir(`${proc}/${pid}/fd`).catch(() => [] as string[]); // another user's: not readable
      for (const fd of fds) {
        const target = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '');
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode !== undefined && inodes.has(inode)) {
          const command = (await readFile(`${proc}/${pid}/comm`, 'utf8').catch(() => '?')).trim();
          holders.push({ pid: Number(pid), command });
          return;
        }
      }
    }),
  );
  holders.sort((a, b) => a.pid - b.pid);
  return { listening: true, holders };
}

/** The inodes of the sockets listening on `port` in one /proc/net/tcp table. */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    const local = fields[1];
    if (!local || fields[3] !== LISTEN_STATE || fields[9] === undefined) continue;
    if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9] !== '0') inodes.push(fields[9]);
  }
  return inodes;
}
