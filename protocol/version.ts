/** The wire contract's version. It is part of every topic (kuroko/v1/...) and every payload (`v`). */
export const PROTOCOL_VERSION = 1 as const;
export const TOPIC_ROOT = `kuroko/v${PROTOCOL_VERSION}` as const;
/** Software version reported in node births and hub state. */
export const SOFTWARE_VERSION = '0.1.0';
