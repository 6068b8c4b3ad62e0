// A simple moving average over the last `period` values in O(1) per update (ring buffer + running
// sum, re-summed periodically so float drift never accumulates). Indicator maths, not money.
export class RollingMean {
  readonly #values: Float64Array;
  #cursor = 0;
  #count = 0;
  #sum = 0;
  #updates = 0;

  constructor(readonly period: number) {
    this.#values = new Float64Array(period);
  }

  push(value: number): void {
    this.#sum += value - this.#values[this.#cursor]!;
    this.#values[this.#cursor] = value;
    this.#cursor = (this.#cursor + 1) % this.period;
    if (this.#count < this.period) this.#count += 1;
    if (++this.#updates % 10_000 === 0) this.#sum = this.#values.reduce((a, b) => a + b, 0);
  }

  get ready(): boolean {
    return this.#count === this.period;
  }

  get value(): number {
    return this.#sum / this.#count;
  }
}
