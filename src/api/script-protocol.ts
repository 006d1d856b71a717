/** Where and how a script channel opens (the server: script-channel.ts; the client: src/client/channel.ts). */
export const SCRIPT_CHANNEL_PATH = '/api/v1/channel';
export const SCRIPT_PROTOCOL = 'mware-script/1';
