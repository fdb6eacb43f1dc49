export * from './version.ts';
export * from './ids.ts';
export * from './schemas.ts';
export * from './topics.ts';
export * from './codec.ts';
export * from './stamp.ts';
export * from './speech-rate.ts';
