export * from './crypto.error';
export * from './hashing';
export * from './key-codec';
export * from './aes-gcm';
export * from './ed25519';
export * from './sealed-secret';
export * from './hmac';
export * from './key-list';
