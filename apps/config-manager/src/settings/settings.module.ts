import { DynamicModule, Global, Module } from '@nestjs/common';
import { Settings } from './settings';

/** Injection token of the validated Settings object. */
export const SETTINGS = Symbol('SETTINGS');

/** Makes the boot-time Settings injectable everywhere, so nothing else reads process.env. */
@Global()
@Module({})
export class SettingsModule {
  static forRoot(settings: Settings): DynamicModule {
    return {
      module: SettingsModule,
      providers: [{ provide: SETTINGS, useValue: settings }],
      exports: [SETTINGS],
    };
  }
}
