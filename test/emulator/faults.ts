/** The fault an endpoint plays next: `fault` for the next `faultCount` answers (tests set both), then none. */
export function takeFault<F>(holder: { fault: F | undefined; faultCount: number }): F | undefined {
  const fault = holder.fault;
  if (fault === undefined) return undefined;
  holder.faultCount -= 1;
  if (holder.faultCount <= 0) {
    holder.fault = undefined;
    holder.faultCount = Infinity;
  }
  return fault;
}
