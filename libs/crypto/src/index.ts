export * from './crypto.error';
export * from './hashing';
export * from './key-codec';
export * from './aes-gcm';
