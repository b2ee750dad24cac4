import type { SimWorld } from '../driver/world.js';
import { SegmentTimeline } from '../diag/segment-events.js';
import type { DemoEvent } from './events.js';

/** Records a SimWorld's frames and stack events as DemoEvents. */
export class Recorder {
  readonly events: DemoEvent[] = [];
  /** Frames to segment events (src/diag/segment-events.ts, shared with the capture view). */
  private readonly timeline = new SegmentTimeline();

  constructor(private readonly world: SimWorld) {
    world.onFrame((ev) => {
      if (ev.duplicate) return;
      const e = this.timeline.segment(ev.t / 1e6, ev.from, ev.frame, ev.dropped, ev.reason);
      if (e) this.events.push(e);
    });
    world.observe((host, ev) => {
      const t = world.now / 1e6;
      if (ev.type === 'state') this.events.push({ t, type: 'state', host, local: ev.local, remote: ev.remote, from: ev.from, to: ev.to, cause: ev.cause });
      else if (ev.type === 'error') this.events.push({ t, type: 'error', host, code: ev.code, message: ev.message, local: ev.local, remote: ev.remote });
    });
  }

  /** An application action or observation. */
  app(host: string, what: string, details: Record<string, unknown> = {}): void {
    this.events.push({ t: this.world.now / 1e6, type: 'app', host, what, ...details });
  }

  /** An error an application saw from a call (e.g. EADDRINUSE from connect). */
  error(host: string, code: string, message: string): void {
    this.events.push({ t: this.world.now / 1e6, type: 'error', host, code, message });
  }

  note(text: string): void {
    this.events.push({ t: this.world.now / 1e6, type: 'note', text });
  }
}
