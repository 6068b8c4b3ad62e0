// A request handler that never finishes, as one of a runner that died mid-request, and says when the
// runner entered it: the runner has claimed the request by then, so a test waits on that event rather
// than polling the row against a deadline.
export function handlerEntered(): { entered: Promise<void>; hang: () => Promise<never> } {
  let enter!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  return {
    entered,
    hang: () => {
      enter();
      return new Promise<never>(() => {});
    },
  };
}
