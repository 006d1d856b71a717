import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFarm } from '../../actors/freeswitch/settings.ts';
import { MediaPortPicker } from '../../src/freeswitch/media-ports.ts';
import { Freeswitch } from '../../topology/schema.ts';

describe('RTP ports for recovered legs (MediaPortPicker)', () => {
  it('keeps a leg’s port that is free and in range, else gives the lowest free even port; never one port twice', () => {
    const p = new MediaPortPicker({ start: 30_000, end: 30_999 }, [30_000, 30_004, 30_007]);
    assert.equal(p.pick(30_010), 30_010); // free: kept
    assert.equal(p.pick(30_010), 30_002); // just given to another leg
    assert.equal(p.pick(30_000), 30_008); // held by the target (30_004; 30_006 blocked by its RTCP 30_007)
    assert.equal(p.pick(20_100), 30_012); // outside the target's range (the source's range)
    assert.equal(p.pick(30_015), 30_014); // odd: RTP ports are even
    assert.equal(p.pick(null), 30_016); // no port known
  });

  it('stays inside the range, RTCP port included, and answers null when the range is full', () => {
    const p = new MediaPortPicker({ start: 16_385, end: 16_390 }, [16_388]);
    assert.equal(p.pick(16_384), 16_386); // 16_384 is below the start; first even port at or above it
    assert.equal(p.pick(16_390), null); // 16_390 would need 16_391 for RTCP; 16_388 is held
    assert.equal(p.pick(null), null);
  });

  it('takes a host’s range from rtp_ports, else FreeSWITCH’s default 16384-32768', () => {
    const host = { esl_host: '127.0.0.21', esl_password: 'x', sip_ip: '127.0.0.21', media_ip: '127.0.0.21' };
    const farm = compileFarm(
      Freeswitch.parse({
        recovery_db: { host: '127.0.0.1', database: 'fs', user: 'fs' },
        hosts: [
          { ...host, name: 'fs01', switchname: 'fs01', profiles: ['internal'], rtp_ports: [30_000, 30_999] },
          { ...host, name: 'fs02', switchname: 'fs02', profiles: ['internal'], esl_port: 8022 },
        ],
      }),
    );
    assert.deepEqual(
      farm.hosts.map((h) => h.rtpPorts),
      [
        { start: 30_000, end: 30_999 },
        { start: 16_384, end: 32_768 },
      ],
    );
  });
});
