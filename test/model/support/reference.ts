// What the operator and the config asked for, tracked by the test itself (not read from the
// system), to judge whether the system may restart a proxy automatically at a given moment.
import type { MonitorSettings } from '../../../machines/monitor/context.ts';
import { IDS, type Id, type Step } from './timeline.ts';

export interface Reference {
  settings: MonitorSettings;
  watching: boolean;
  wanted: Record<Id, 'up' | 'down'>;
  override: Record<Id, boolean | null>;
}

export function initialReference(settings: MonitorSettings): Reference {
  const each = <T>(value: T) => Object.fromEntries(IDS.map((id) => [id, value])) as Record<Id, T>;
  return { settings, watching: settings.enable, wanted: each<'up' | 'down'>('up'), override: each<boolean | null>(null) };
}

export function applyStep(ref: Reference, step: Step): void {
  if (step.do === 'monitor') ref.watching = step.on;
  if (step.do === 'configure') {
    const before = ref.settings.enable;
    ref.settings = { ...ref.settings, ...step.change };
    // Turning `enable` off stops the monitor, turning it on starts it; setting it unchanged does neither.
    if (before !== ref.settings.enable) ref.watching = ref.settings.enable;
  }
  if (step.do === 'command') {
    if (step.command === 'START' || step.command === 'RESTART') ref.wanted[step.id] = 'up';
    if (step.command === 'STOP') ref.wanted[step.id] = 'down';
    if (step.command === 'ENABLE') ref.override[step.id] = true;
    if (step.command === 'DISABLE') ref.override[step.id] = false;
  }
}

/** Automatic restarts are allowed: wanted up, its monitoring on (all specs say `monitor: true`), the monitor watching. */
export const mayRestartAutomatically = (ref: Reference, id: Id) => ref.wanted[id] === 'up' && (ref.override[id] ?? true) && ref.watching;
