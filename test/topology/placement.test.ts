import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAncestorOrSelf, mostSpecific, parentName } from '../../topology/domain-tree.ts';
import { rendezvous } from '../../topology/hash.ts';
import {
  domainsOfGroup,
  electActive,
  groupOf,
  groupOfMutexKey,
  groupsOnSite,
  masterDomain,
  placementFor,
  siteOf,
} from '../../topology/placement.ts';
import type { MwareRole, Topology } from '../../topology/schema.ts';
import { validateDocument } from '../../topology/validate.ts';
import { formatProblem } from '../../topology/problems.ts';

// ------------------------------------------------------------------------------------------------ oracle

/**
 * The site rule of 01-topology.md, written out by brute force and independently of topology/: a domain is served
 * on the site listing its most specific listed ancestor-or-self, that is the listed name that is a whole-label
 * suffix of the domain with the most labels (the first site listing it, should two); under no listed name, on the
 * master site.
 */
function expectedSite(
  sites: readonly { name: string; master?: boolean; domains: string[] }[],
  domain: string,
) {
  const labels = domain.split('.');
  let best: { site: string; labels: number } | undefined;
  for (const site of sites) {
    for (const listed of site.domains) {
      const l = listed.split('.');
      const covers =
        l.length <= labels.length && l.every((x, i) => x === labels[labels.length - l.length + i]);
      if (covers && (best === undefined || l.length > best.labels))
        best = { site: site.name, labels: l.length };
    }
  }
  return best?.site ?? sites.find((s) => s.master)?.name;
}

// ------------------------------------------------------------------------------------------------ generators

const ROOT = 'root.test';

/** A random domain tree under ROOT: each node picks a parent among the earlier ones. */
const domainTree = fc
  // `les`/`ales`/`sales` are suffixes of one another by characters but not by labels.
  .array(fc.tuple(fc.nat(), fc.constantFrom('a', 'b', 'c', 'd', 'e', 'sales', 'les', 'ales', 'ops')), {
    minLength: 0,
    maxLength: 40,
  })
  .map((steps) => {
    const domains = [ROOT];
    for (const [pick, label] of steps) {
      const parent = domains[pick % domains.length] as string;
      const name = `${label}.${parent}`;
      if (!domains.includes(name) && name.length < 200) domains.push(name);
    }
    return domains;
  });

interface GeneratedCluster {
  topology: Topology;
  /** site → groups, the first of each site being its catch-all */
  groups: Map<string, number[]>;
}

/**
 * A valid topology over a random tree: 1-3 sites (the master serves ROOT, the others random subtrees), 1-3 groups
 * per site, one catch-all per site and the others including random subtrees served on their site.
 */
const cluster = domainTree.chain((domains) =>
  fc
    .record({
      siteRoots: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, domains.length - 1) }), {
        maxLength: 2,
      }),
      groupCounts: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
      includes: fc.array(fc.nat(), { minLength: 9, maxLength: 9 }),
      orders: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 9, maxLength: 9 }),
    })
    .map(({ siteRoots, groupCounts, includes, orders }): GeneratedCluster => {
      const otherRoots =
        domains.length > 1 ? siteRoots.map((i) => domains[i] as string).filter((d) => d !== ROOT) : [];
      const sites = [
        { name: 'master', master: true, domains: [ROOT] },
        ...otherRoots.map((d, i) => ({ name: `site${i}`, master: false, domains: [d] })),
      ];
      const servers = sites.map((s, i) => ({
        name: `srv${i}`,
        site: s.name,
        ifaces: { eth0: `127.0.1.${i + 1}` },
      }));
      const topo: Topology = {
        cluster: 'prop',
        security: { api_tokens: [] },
        sites,
        servers,
        roles: [],
        domains,
      };
      const groups = new Map<string, number[]>();
      const taken = new Set<string>();
      let g = 100;
      sites.forEach((site, si) => {
        const served = domains.filter((d) => expectedSite(sites, d) === site.name);
        const list: number[] = [];
        for (let k = 0; k < (groupCounts[si] ?? 1); k++) {
          const group = g++;
          const pick = served[(includes[si * 3 + k] ?? 0) % Math.max(1, served.length)];
          // The first group is the catch-all; others include one subtree not yet included.
          const include = k === 0 || pick === undefined || taken.has(pick) ? [] : [pick];
          if (k > 0 && include.length === 0) continue;
          include.forEach((d) => taken.add(d));
          list.push(group);
          topo.roles.push(role(`m${group}`, `srv${si}`, group, orders[si * 3 + k] ?? 0, include));
        }
        groups.set(site.name, list);
      });
      return { topology: topo, groups };
    }),
);

function role(name: string, server: string, group: number, order: number, include: string[]): MwareRole {
  return {
    name,
    roletype: 'mware',
    server,
    iface: 'eth0',
    group,
    order,
    include_domains: include,
    ext: {},
    enabled: true,
    state_mode: 'transactional',
    api: { port: 7000 + (group % 1000) },
    mutex: { max_keys: 10_000, idle_ms: 30_000 },
    pg_controller: [],
    cti_adapters: [],
    monitors: [],
  };
}

// ------------------------------------------------------------------------------------------------ properties

describe('placement over random domain trees', () => {
  it('every generated cluster is valid (the rules accept what placement can place)', () => {
    fc.assert(
      fc.property(cluster, ({ topology }) => {
        // One group per site needs no coordination check here: give the file a coordination section.
        const doc = {
          ...topology,
          coordination: { redis: { url: 'redis://127.0.0.1:6379/0' } },
          security: { api_tokens: [], cluster_secret: 'x'.repeat(16) },
        };
        const r = validateDocument(JSON.parse(JSON.stringify(doc)));
        assert.deepEqual(r.problems.map(formatProblem), []);
      }),
      { numRuns: 150 },
    );
  });

  it('serves every domain on the site listing its most specific listed ancestor-or-self', () => {
    fc.assert(
      fc.property(cluster, fc.constantFrom('x.', 'les', 'a', ''), ({ topology }, prefix) => {
        // The tree's domains, and names around them that the file does not list (placement is a pure function).
        const names = [...topology.domains, ...topology.domains.map((d) => prefix + d), 'root.other', 'test'];
        for (const d of names) assert.equal(siteOf(topology, d), expectedSite(topology.sites, d), d);
      }),
      { numRuns: 150 },
    );
  });

  it('gives every domain exactly one group, on its own site, and the groups partition the tree', () => {
    fc.assert(
      fc.property(cluster, ({ topology, groups }) => {
        const all = [...groups.values()].flat();
        const seen: string[] = [];
        for (const g of all) seen.push(...domainsOfGroup(topology, g));
        assert.deepEqual([...seen].sort(), [...topology.domains].sort());
        for (const d of topology.domains) {
          const g = groupOf(topology, d);
          assert.ok(g !== undefined);
          assert.ok(
            groups.get(expectedSite(topology.sites, d) ?? '')?.includes(g),
            `${d} → group ${g} is not on its site`,
          );
        }
      }),
      { numRuns: 150 },
    );
  });

  it('serves an included subtree on the including group, except branches included elsewhere', () => {
    fc.assert(
      fc.property(cluster, ({ topology }) => {
        for (const r of topology.roles as MwareRole[]) {
          for (const inc of r.include_domains) {
            for (const d of topology.domains.filter((x) => isAncestorOrSelf(inc, x))) {
              const otherInclude = (topology.roles as MwareRole[]).some(
                (o) =>
                  o.group !== r.group &&
                  o.include_domains.some(
                    (x) => x !== inc && isAncestorOrSelf(inc, x) && isAncestorOrSelf(x, d),
                  ),
              );
              const otherSite = topology.sites.some((s) =>
                s.domains.some((x) => x !== inc && isAncestorOrSelf(inc, x) && isAncestorOrSelf(x, d)),
              );
              if (!otherInclude && !otherSite)
                assert.equal(groupOf(topology, d), r.group, `${d} under ${inc}`);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('lists a group’s domains parents first', () => {
    fc.assert(
      fc.property(cluster, ({ topology, groups }) => {
        for (const g of [...groups.values()].flat()) {
          const list = domainsOfGroup(topology, g);
          list.forEach((d, i) => {
            const p = parentName(d);
            if (p !== undefined && list.includes(p)) assert.ok(list.indexOf(p) < i, `${p} after ${d}`);
          });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('finds the master domain as the root the master site serves', () => {
    fc.assert(
      fc.property(cluster, ({ topology }) => assert.equal(masterDomain(topology), ROOT)),
      { numRuns: 50 },
    );
  });
});

describe('the most specific listed ancestor-or-self', () => {
  /** A topology of sites only, the one named `master` being the master site. */
  const sites = (master: string, ...list: [string, string[]][]): Topology => ({
    cluster: 't',
    security: { api_tokens: [] },
    sites: list.map(([name, domains]) => ({ name, master: name === master, domains })),
    servers: [],
    roles: [],
    domains: [],
  });

  it('prefers the name with more labels, whatever order the candidates come in', () => {
    const [a, b, c] = ['root.ru', 'sales.test.root.ru', 'test.root.ru'];
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
      [b, c, a],
    ]) {
      assert.equal(mostSpecific('a.sales.test.root.ru', order), 'sales.test.root.ru');
      assert.equal(mostSpecific('b.test.root.ru', order), 'test.root.ru');
      assert.equal(mostSpecific('root.ru', order), 'root.ru', 'itself');
    }
  });

  it('matches whole labels only, and never a descendant', () => {
    assert.equal(mostSpecific('sales.root.ru', ['les.root.ru', 'ales.root.ru', 'root.ru']), 'root.ru');
    assert.equal(mostSpecific('root.ru', ['test.root.ru']), undefined, 'a descendant is not an ancestor');
    assert.equal(mostSpecific('xroot.ru', ['root.ru']), undefined);
    assert.equal(mostSpecific('root.ru', []), undefined);
  });

  it('places a domain on the site of its most specific listed ancestor, not of a wider or a longer-named one', () => {
    const t = sites(
      'master',
      ['master', ['root.ru']],
      ['east', ['test.root.ru']],
      ['west', ['sales.test.root.ru', 'les.root.ru']],
    );
    for (const [domain, site] of [
      ['root.ru', 'master'],
      ['other.root.ru', 'master'],
      ['test.root.ru', 'east'],
      ['a.test.root.ru', 'east'],
      ['sales.test.root.ru', 'west'],
      ['x.sales.test.root.ru', 'west'],
      ['les.root.ru', 'west'],
      ['sales.root.ru', 'master'],
      ['ales.test.root.ru', 'east'],
    ] as const)
      assert.equal(siteOf(t, domain), site, domain);
  });

  it('places a domain under no listed name on the master site, wherever the master is listed', () => {
    assert.equal(siteOf(sites('main', ['main', ['root.ru']], ['far', ['far.ru']]), 'elsewhere.org'), 'main');
    const masterLast = sites('main', ['far', ['far.ru']], ['main', ['root.ru']]);
    assert.equal(siteOf(masterLast, 'elsewhere.org'), 'main');
    assert.equal(siteOf(masterLast, 'a.far.ru'), 'far');
  });

  it('gives a name listed by two sites (a validation error) to the first one listing it', () => {
    assert.equal(siteOf(sites('one', ['one', ['root.ru']], ['two', ['root.ru']]), 'a.root.ru'), 'one');
    assert.equal(
      siteOf(
        sites('one', ['one', ['root.ru']], ['two', ['test.root.ru']], ['three', ['test.root.ru']]),
        'a.test.root.ru',
      ),
      'two',
    );
  });
});

describe('mutex key placement by rendezvous hashing', () => {
  const groupsArb = fc.uniqueArray(fc.integer({ min: 1, max: 9_999_999 }), { minLength: 1, maxLength: 8 });
  const keysArb = fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 50, maxLength: 200 });

  it('gives every key one of the candidate groups, the same one every time', () => {
    fc.assert(
      fc.property(groupsArb, keysArb, (groups, keys) => {
        for (const k of keys) {
          const g = rendezvous(k, groups);
          assert.ok(g !== undefined && groups.includes(g));
          assert.equal(rendezvous(k, [...groups].reverse()), g, 'order of candidates must not matter');
        }
      }),
    );
  });

  it('moves only the keys the new group wins when a group is added', () => {
    fc.assert(
      fc.property(groupsArb, keysArb, fc.integer({ min: 1, max: 9_999_999 }), (groups, keys, added) => {
        fc.pre(!groups.includes(added));
        for (const k of keys) {
          const before = rendezvous(k, groups);
          const after = rendezvous(k, [...groups, added]);
          assert.ok(after === before || after === added, `${k} moved from ${before} to ${after}`);
        }
      }),
    );
  });

  it('moves only the removed group’s keys when a group is removed', () => {
    fc.assert(
      fc.property(groupsArb, keysArb, (groups, keys) => {
        fc.pre(groups.length > 1);
        const [removed, ...rest] = groups;
        for (const k of keys) {
          const before = rendezvous(k, groups);
          if (before !== removed) assert.equal(rendezvous(k, rest), before);
        }
      }),
    );
  });

  it('spreads keys over groups roughly evenly', () => {
    const groups = [11120, 11130, 11140, 11150];
    const counts = new Map(groups.map((g) => [g, 0]));
    for (let i = 0; i < 20_000; i++) {
      const g = rendezvous(`orders-${i}`, groups) as number;
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    for (const [g, n] of counts) assert.ok(n > 4_000 && n < 6_000, `group ${g} got ${n} of 20000 keys`);
  });

  it('places a key among the groups of the given site only', () => {
    fc.assert(
      fc.property(cluster, fc.string({ minLength: 1 }), ({ topology, groups }, key) => {
        for (const [site, list] of groups)
          assert.ok(list.includes(groupOfMutexKey(topology, site, key) as number));
      }),
      { numRuns: 50 },
    );
  });
});

describe('placement of a role instance', () => {
  const topo: Topology = {
    cluster: 't',
    security: { api_tokens: [] },
    sites: [{ name: 'main', master: true, domains: ['rootdomain.ru'] }],
    servers: [
      { name: 'srv1', site: 'main', ifaces: { eth0: '127.0.0.11' } },
      { name: 'srv2', site: 'main', ifaces: { eth0: '127.0.0.12' } },
    ],
    roles: [
      role('b', 'srv2', 1, 20, ['test.rootdomain.ru']),
      role('a', 'srv1', 1, 10, ['test.rootdomain.ru']),
      role('c', 'srv1', 2, 10, []),
      { ...role('off', 'srv1', 3, 10, []), enabled: false },
    ],
    domains: ['rootdomain.ru', 'test.rootdomain.ru', 'sales.test.rootdomain.ru', 'office.rootdomain.ru'],
  };

  it('derives site, address, group members in failover order, rank and served domains', () => {
    const p = placementFor(topo, 'b');
    assert.ok(p);
    assert.equal(p.site, 'main');
    assert.equal(p.address, '127.0.0.12');
    assert.deepEqual(
      p.members.map((m) => m.name),
      ['a', 'b'],
    );
    assert.equal(p.rank, 1);
    assert.deepEqual(p.domains, ['test.rootdomain.ru', 'sales.test.rootdomain.ru']);
    assert.deepEqual(p.mutexGroups, [1, 2]);
    assert.deepEqual(placementFor(topo, 'c')?.domains, ['rootdomain.ru', 'office.rootdomain.ru']);
  });

  it('does not place a disabled or unknown instance', () => {
    assert.equal(placementFor(topo, 'off'), undefined);
    assert.equal(placementFor(topo, 'nobody'), undefined);
    assert.deepEqual(
      groupsOnSite(topo, 'main').map((g) => g.group),
      [1, 2],
    );
  });

  it('makes the live member with the lowest order active at cold start', () => {
    const members = placementFor(topo, 'a')?.members ?? [];
    assert.equal(electActive(members, new Set(['a', 'b']), undefined), 'a');
    assert.equal(electActive(members, new Set(['b']), undefined), 'b');
    assert.equal(electActive(members, new Set(), undefined), undefined);
  });

  it('keeps the current active when a lower-order member comes back, unless that member has ext.failback', () => {
    const members = placementFor(topo, 'a')?.members ?? [];
    assert.equal(electActive(members, new Set(['a', 'b']), 'b'), 'b');
    const withFailback = members.map((m) => (m.name === 'a' ? { ...m, ext: { failback: true } } : m));
    assert.equal(electActive(withFailback, new Set(['a', 'b']), 'b'), 'a');
    assert.equal(electActive(members, new Set(['a']), 'b'), 'a', 'a lost active is replaced');
  });
});
