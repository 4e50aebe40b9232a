/** Rupees rounded to the paisa, the one way the money path rounds. */

/** Half away from zero, robust to binary representation (0.485 → 0.49, 1.005 → 1.01, 2.675 → 2.68). */
export function toPaisa(x: number): number {
  const cents = Number((x * 100).toPrecision(12));
  return (Math.sign(cents) * Math.round(Math.abs(cents))) / 100 + 0; // + 0 turns -0 into 0
}
