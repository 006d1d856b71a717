import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metadataFacts, nextInviteCseq, rewriteMetadata, variable } from '../../src/freeswitch/metadata.ts';

/** A metadata column as FreeSWITCH writes it: the XML CDR, variables URL-encoded. */
function cdr(vars: Record<string, string>): string {
  const body = Object.entries(vars)
    .map(([k, v]) => `<${k}>${encodeURIComponent(v)}</${k}>`)
    .join('');
  return `<?xml version="1.0"?>\n<cdr core-uuid="c1" switchname="freeswitch01"><channel_data><direction>inbound</direction></channel_data><variables>${body}</variables><callflow><caller_profile><local_media_ip>127.0.0.99</local_media_ip></caller_profile></callflow></cdr>`;
}

const A = cdr({
  uuid: 'leg-a',
  direction: 'inbound',
  sip_call_id: 'call-1@127.0.0.5',
  signal_bond: 'leg-b',
  domain_name: 'example.test',
  caller_id_number: '+79001234567',
  destination_number: '2001',
  local_media_ip: '127.0.0.21',
  local_media_port: '16384',
  advertised_media_ip: '127.0.0.21',
  sip_recover_via: 'SIP/2.0/UDP 127.0.0.21:5060;rport;branch=z9hG4bK1',
  sip_invite_route_uri: '<sip:127.0.0.21:5060;lr>,<sip:127.0.0.210;lr>',
});

describe('recovery metadata', () => {
  it('reads the facts the planner needs, decoded', () => {
    const f = metadataFacts(A);
    assert.deepEqual(f, {
      partner: 'leg-b',
      conference: null,
      domain: 'example.test',
      callId: 'call-1@127.0.0.5',
      caller: '+79001234567',
      callee: '2001',
      direction: 'inbound',
      mediaIp: '127.0.0.21',
      mediaPort: 16384,
      viaHost: '127.0.0.21',
      inviteCseq: null,
    });
  });

  it('rewrites media IPs and the farm host in routing variables to the target, and nothing outside <variables>', () => {
    const out = rewriteMetadata(A, {
      mediaIp: '127.0.0.22',
      sipIp: '127.0.0.22',
      farmAddresses: ['127.0.0.21', '127.0.0.22'],
      inviteCseq: 5000,
    });
    assert.equal(variable(out, 'local_media_ip'), '127.0.0.22');
    assert.equal(variable(out, 'advertised_media_ip'), '127.0.0.22');
    assert.equal(variable(out, 'sip_recover_via'), 'SIP/2.0/UDP 127.0.0.22:5060;rport;branch=z9hG4bK1');
    // 127.0.0.210 is another address that merely starts like the source's: untouched.
    assert.equal(variable(out, 'sip_invite_route_uri'), '<sip:127.0.0.22:5060;lr>,<sip:127.0.0.210;lr>');
    assert.equal(variable(out, 'sip_invite_cseq'), '5000');
    // No port given: the leg's port stays.
    assert.equal(variable(out, 'local_media_port'), '16384');
    // Identity of the dialog unchanged.
    assert.equal(variable(out, 'sip_call_id'), 'call-1@127.0.0.5');
    assert.equal(variable(out, 'uuid'), 'leg-a');
    assert.match(out, /<caller_profile><local_media_ip>127\.0\.0\.99<\/local_media_ip>/);
  });

  it('sets local_media_port to the port given, only where the leg has one', () => {
    const r = {
      mediaIp: '127.0.0.22',
      sipIp: '127.0.0.22',
      farmAddresses: [],
      inviteCseq: 1,
      mediaPort: 30_002,
    };
    const out = rewriteMetadata(A, r);
    assert.equal(variable(out, 'local_media_port'), '30002');
    assert.equal(metadataFacts(out).mediaPort, 30_002);
    assert.equal(out.match(/<local_media_port>/g)?.length, 1);
    const noMedia = cdr({ uuid: 'leg-c', direction: 'inbound' });
    assert.equal(variable(rewriteMetadata(noMedia, r), 'local_media_port'), null);
  });

  it('a call migrated twice is rewritten again from what the first migration left', () => {
    const once = rewriteMetadata(A, {
      mediaIp: '127.0.0.22',
      sipIp: '127.0.0.22',
      farmAddresses: ['127.0.0.21', '127.0.0.22', '127.0.0.23'],
      inviteCseq: 10,
    });
    const twice = rewriteMetadata(once, {
      mediaIp: '127.0.0.23',
      sipIp: '127.0.0.23',
      farmAddresses: ['127.0.0.21', '127.0.0.22', '127.0.0.23'],
      inviteCseq: 20,
    });
    assert.equal(metadataFacts(twice).mediaIp, '127.0.0.23');
    assert.equal(metadataFacts(twice).viaHost, '127.0.0.23');
    assert.equal(variable(twice, 'sip_invite_cseq'), '20');
  });

  it('keeps the CSeq ahead of the one in the metadata and of the clock', () => {
    const withCseq = rewriteMetadata(A, {
      mediaIp: 'x',
      sipIp: 'x',
      farmAddresses: [],
      inviteCseq: 1_900_000_000,
    });
    assert.equal(metadataFacts(withCseq).inviteCseq, 1_900_000_000);
    assert.equal(nextInviteCseq(metadataFacts(withCseq).inviteCseq, 1_000_000), 1_900_000_100);
    assert.equal(nextInviteCseq(metadataFacts(A).inviteCseq, 1_700_000_000_000), 1_700_000_000);
  });

  it('a value FreeSWITCH encoded as surrogate halves (an emoji) is kept raw rather than throwing', () => {
    const xml = A.replace(
      '<domain_name>',
      '<caller_id_name>%ED%A0%BD%ED%B8%80</caller_id_name><domain_name>',
    );
    assert.equal(variable(xml, 'caller_id_name'), '%ED%A0%BD%ED%B8%80');
  });
});
