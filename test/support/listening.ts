import { readFileSync } from 'node:fs';

/**
 * Local addresses of the TCP sockets listening on `port`, read from /proc/net/tcp and /proc/net/tcp6 (Linux): what
 * a server really bound to, whatever it reports. IPv4 addresses come back dotted (`127.0.0.1`), IPv6 ones in
 * their short form (`::`, `::1`).
 */
export function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const [file, decode] of [
    ['/proc/net/tcp', ipv4],
    ['/proc/net/tcp6', ipv6],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st …; st 0A is LISTEN
      const [, local, , st] = line.trim().split(/\s+/);
      if (local === undefined || st !== '0A') continue;
      const [addr, p] = local.split(':');
      if (p === hexPort && addr !== undefined) found.push(decode(addr));
    }
  }
  return found;
}

/** `0100007F` → `127.0.0.1` (the kernel prints the address as a host-order, here little-endian, word). */
function ipv4(hex: string): string {
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
}

/** 32 hex digits, four host-order words → the address in its canonical short form. */
function ipv6(hex: string): string {
  const bytes: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (const i of [3, 2, 1, 0]) bytes.push(word.slice(i * 2, i * 2 + 2));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(`${bytes[i]}${bytes[i + 1]}`);
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
