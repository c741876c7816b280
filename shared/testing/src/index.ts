export * from './broker.ts';
export * from './database.ts';
export * from './env.ts';
export * from './mailgun.ts';
export * from './pipeline.ts';
export * from './redis.ts';
export * from './signed.ts';
export * from './whatsapp.ts';
