import type {} from 'zod-openapi';
import { z } from 'zod';
import { domainName } from '../../topology/primitives.ts';

/**
 * The call manager's messages (`/freeswitch/calls`, 05-freeswitch.md "Call manager facade"): one zod schema per
 * request, parsed where it enters (the REST facade, the message API), and the shapes of its replies. Every value that
 * ends up in an ESL command line is checked here to a narrow alphabet — no blank, no line break, no `{ } , ' "` — so
 * a request can add neither a second command nor a channel-variable block: an ESL command is one line built by the
 * call manager alone (call-manager-esl.ts).
 */

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** A FreeSWITCH channel uuid (what `originate` answers and every `uuid_*` command takes). */
export const CallId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    error: (i) => `must be a call uuid like 0b5e3c9a-…-…-…-… (got ${show(i.input)})`,
  })
  .transform((v) => v.toLowerCase())
  .meta({
    description: 'A channel uuid (a call is named by its A leg)',
    example: '5d0f1e7e-4c1b-4a53-9d3e-0c3c1f1a2b3c',
  });

/**
 * A dialable number or SIP user: digits, letters, `+ * # . _ -`, not starting with `-` (uuid_transfer would read it
 * as its `-bleg`/`-both` option) nor `&` (originate would read an application).
 */
export const PhoneNumber = z
  .string()
  .regex(/^[+0-9A-Za-z*#][0-9A-Za-z*#._+-]{0,63}$/, {
    error: (i) =>
      `must be 1-64 digits, letters or + * # . _ - (not starting with - . _), e.g. 1001 or +74951234567 (got ${show(i.input)})`,
  })
  .meta({ example: '1001' });

export const Domain = domainName.meta({
  description: 'The domain the call belongs to (its channel’s domain_name)',
  example: 'example.test',
});

/** Caller id name: letters and digits of any script, `. _ + -`; no blank (originate's arguments are words). */
export const CallerIdName = z.string().regex(/^[\p{L}\p{N}._+-]{1,64}$/u, {
  error: (i) => `must be 1-64 letters, digits or . _ + - without blanks (got ${show(i.input)})`,
});

/** DTMF digits as uuid_send_dtmf takes them: 0-9 * # A-D, and `w`/`W` for a pause. */
export const DtmfDigits = z
  .string()
  .regex(/^[0-9*#A-Da-dwW]{1,64}$/, {
    error: (i) => `must be 1-64 DTMF digits 0-9 * # A-D (w/W: pause) (got ${show(i.input)})`,
  })
  .meta({ example: '123#' });

/** A conference name as mod_conference lists it. */
export const ConferenceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/, {
    error: (i) => `must be 1-128 letters, digits or _ . + - (got ${show(i.input)})`,
  })
  .meta({ example: 'room-3000' });

/**
 * A recording's name relative to the domain's recordings folder: words of letters, digits, `. _ -` separated by `/`.
 * Whether it stays inside the folder (no `..`, not absolute) is the call manager's check, with its own error code.
 */
export const RecordPath = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._/-]+$/, {
    error: (i) => `must be letters, digits and . _ - / (got ${show(i.input)})`,
  })
  .meta({
    description:
      'Relative to `<recordings_dir>/<domain>/` on the FreeSWITCH host (topology `freeswitch.call_manager`); an ' +
      'absolute path or one with `..` is refused (400 MW_ERR_CALL_RECORD_PATH_REFUSED)',
    example: '2024/call-1001.wav',
  });

const Leg = z
  .enum(['a', 'b', 'both'])
  .meta({ description: 'Which side of the call: its A leg (default), its B leg, or both' });

// --------------------------------------------------------------------------------------------------- requests

export const DomainOnly = z.strictObject({ domain: Domain });
export const CallRef = z.strictObject({ domain: Domain, id: CallId });

export const OriginateFields = {
  from: PhoneNumber.meta({
    description: 'Called first: the user whose phone rings (`user/<from>@<domain>`)',
  }),
  to: PhoneNumber.meta({
    description: 'Dialled in the domain’s dialplan once `from` answers',
    example: '1002',
  }),
  caller_id_number: PhoneNumber.optional().meta({ description: 'Shown to `from` (default: `to`)' }),
  caller_id_name: CallerIdName.optional().meta({ description: 'Shown to `from` (default: `to`)' }),
};
export const OriginateRequest = z.strictObject({ domain: Domain, ...OriginateFields });

export const TransferFields = {
  to: PhoneNumber.meta({ description: 'Extension the leg is sent to in the domain’s dialplan' }),
  leg: Leg.optional(),
};
export const TransferRequest = CallRef.extend(TransferFields);

export const DtmfFields = {
  digits: DtmfDigits,
  duration_ms: z.int().min(40).max(2_000).optional().meta({ description: 'Tone length of each digit' }),
  leg: Leg.exclude(['both']).optional(),
};
export const DtmfRequest = CallRef.extend(DtmfFields);

export const RecordFields = {
  action: z.enum(['start', 'stop']),
  path: RecordPath.optional().meta({
    description: 'Required to start; to stop, omitted means every recording',
  }),
  limit_s: z.int().min(1).max(86_400).optional().meta({ description: 'start: stop after this many seconds' }),
};
/** A recording starts with a path; a stop without one stops them all. */
export function startHasPath(r: { action: 'start' | 'stop'; path?: string | undefined }): boolean {
  return r.action === 'stop' || r.path !== undefined;
}
export const START_NEEDS_PATH = { error: 'a recording starts with a path', path: ['path'] };
export const RecordRequest = CallRef.extend(RecordFields).refine(startHasPath, START_NEEDS_PATH);

export const HangupRequest = CallRef.extend({
  cause: z
    .string()
    .regex(/^[A-Z_]{1,64}$/, { error: 'must be a FreeSWITCH hangup cause such as NORMAL_CLEARING' })
    .optional(),
});

export const ConferenceRef = z.strictObject({ domain: Domain, name: ConferenceName });
export const KickRequest = ConferenceRef.extend({ uuid: CallId });

// ---------------------------------------------------------------------------------------------------- replies

export const CallSideSchema = z
  .object({
    uuid: z.string(),
    number: z
      .string()
      .nullable()
      .meta({ description: 'The party on this leg: caller of an inbound leg, callee of an outbound one' }),
    caller: z.string().nullable(),
    callee: z.string().nullable(),
    direction: z.enum(['inbound', 'outbound']).nullable(),
    state: z.enum(['ringing', 'answered', 'bridged', 'conference']),
    channel_state: z.string().meta({ description: 'FreeSWITCH’s Channel-State (CS_EXECUTE …)' }),
    host: z.string(),
    answered: z.boolean(),
    answered_at: z.number().nullable().meta({ description: 'Wall-clock ms, when this node saw the answer' }),
    conference: z.string().nullable(),
  })
  .meta({ id: 'CallSide' });

export const DialogSchema = z
  .object({
    id: z.string().meta({ description: 'The A leg’s uuid' }),
    domain: z.string(),
    host: z.string(),
    a: CallSideSchema,
    b: CallSideSchema.nullable().meta({ description: 'The bridged leg, if any' }),
  })
  .meta({ id: 'Dialog' });

export const DialogList = z.object({ calls: z.array(DialogSchema) }).meta({ id: 'DialogList' });

export const OriginateReplySchema = z
  .object({ id: z.string(), host: z.string(), domain: z.string() })
  .meta({ id: 'OriginateReply' });

export const CallActionReplySchema = z
  .object({
    id: z.string(),
    uuid: z.string().meta({ description: 'The leg the command was sent to' }),
    host: z.string(),
    reply: z.string().meta({ description: 'FreeSWITCH’s answer (`+OK …`)' }),
    path: z.string().optional().meta({ description: 'SETUP_RECORD: the recording’s full path on the host' }),
  })
  .meta({ id: 'CallActionReply' });

export const ParticipantSchema = z
  .object({
    member_id: z.int(),
    uuid: z.string(),
    caller_name: z.string(),
    caller_number: z.string(),
    flags: z.array(z.string()),
    host: z.string(),
  })
  .meta({ id: 'ConferenceParticipant' });

export const ConferenceSchema = z
  .object({
    name: z.string(),
    host: z.string(),
    members: z.int(),
    flags: z.array(z.string()),
  })
  .meta({ id: 'Conference' });

export const ConferenceList = z
  .object({ conferences: z.array(ConferenceSchema) })
  .meta({ id: 'ConferenceList' });
export const ParticipantList = z
  .object({ name: z.string(), participants: z.array(ParticipantSchema) })
  .meta({ id: 'ConferenceParticipantList' });

export type CallSide = z.infer<typeof CallSideSchema>;
export type Dialog = z.infer<typeof DialogSchema>;
export type OriginateReply = z.infer<typeof OriginateReplySchema>;
export type CallActionReply = z.infer<typeof CallActionReplySchema>;
export type Participant = z.infer<typeof ParticipantSchema>;
export type Conference = z.infer<typeof ConferenceSchema>;

export type FsCallsProtocol = {
  list: { request: z.infer<typeof DomainOnly>; reply: { calls: Dialog[] }; scope: 'calls' };
  get: { request: z.infer<typeof CallRef>; reply: Dialog; scope: 'calls' };
  originate: { request: z.infer<typeof OriginateRequest>; reply: OriginateReply; scope: 'calls' };
  hangup: { request: z.infer<typeof HangupRequest>; reply: CallActionReply; scope: 'calls' };
  transfer: { request: z.infer<typeof TransferRequest>; reply: CallActionReply; scope: 'calls' };
  dtmf: { request: z.infer<typeof DtmfRequest>; reply: CallActionReply; scope: 'calls' };
  record: { request: z.infer<typeof RecordRequest>; reply: CallActionReply; scope: 'calls' };
  conferences: { request: z.infer<typeof DomainOnly>; reply: { conferences: Conference[] }; scope: 'calls' };
  participants: {
    request: z.infer<typeof ConferenceRef>;
    reply: { name: string; participants: Participant[] };
    scope: 'calls';
  };
  kick: {
    request: z.infer<typeof KickRequest>;
    reply: { name: string; uuid: string; host: string; reply: string };
    scope: 'calls';
  };
};

export const CALLS_PATH = '/freeswitch/calls';
