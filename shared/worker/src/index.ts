export * from './active-channel.ts';
export * from './batch.ts';
export * from './channels.ts';
export * from './relay.ts';
export * from './route.ts';
export * from './unit-of-work.ts';
