// prom-client's registry, plus families whose text is kept by their owner and appended to every
// scrape (proxy-gauges.ts: per-proxy lines written once per change, not formatted per scrape).
import { Registry } from './prom.ts';

export class Exposition extends Registry {
  readonly #texts: Array<() => string> = [];
  #families = 0;

  /** Bumped when a family is registered (the inspector's, loaded on first use): a kept scrape is then stale. */
  get families(): number {
    return this.#families;
  }

  override registerMetric(metric: Parameters<Registry['registerMetric']>[0]): void {
    super.registerMetric(metric);
    this.#families++;
  }

  /** A source of whole families in the text format, each ending in a newline. */
  append(text: () => string): void {
    this.#texts.push(text);
  }

  override async metrics(): Promise<string> {
    // prom-client's own text ends in a newline; a blank line separates families, as it does.
    // Concatenated, not joined: the kept texts are not copied into a new string per scrape.
    let all = await super.metrics();
    for (const text of this.#texts) all += `\n${text()}`;
    return all;
  }
}
