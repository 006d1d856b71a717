// comedy ships no type declarations; it is used only from src/actor-system/comedy.ts.
declare module 'comedy';
