// The NULL-slot list of the C course (a vec_void_t plus an n_null_* counter).
//
// Removing an item while a loop is walking the list must not shift the items
// behind it, so removal only empties the slot and counts it. The loop compacts
// the list between passes once more than DEFAULT_NULLS_THRESH slots are empty
// (filter_nulls in xps_loop.c).
import { DEFAULT_NULLS_THRESH } from "./constants.ts";

export class SlotList<T> {
  /** The slots, in insertion order; null where an item was removed. */
  readonly items: (T | null)[] = [];
  /** How many slots are null. */
  nNull = 0;
  /** Told of every item added and removed (the loop posts new pipes for its next pass). */
  onAdd: ((item: T) => void) | null = null;
  onRemove: ((item: T) => void) | null = null;

  /** Live items (slots minus the empty ones). */
  get size(): number {
    return this.items.length - this.nNull;
  }

  add(item: T): void {
    this.items.push(item);
    this.onAdd?.(item);
  }

  /** Empty the item's slot; false when it is not in the list. */
  remove(item: T): boolean {
    // Recent items are removed most often (short connections), so search from the end.
    const i = this.items.lastIndexOf(item);
    if (i < 0) return false;
    this.items[i] = null;
    this.nNull++;
    this.onRemove?.(item);
    return true;
  }

  has(item: T): boolean {
    return this.items.lastIndexOf(item) >= 0;
  }

  /** Drop the empty slots if there are more than `threshold` of them. */
  compact(threshold: number = DEFAULT_NULLS_THRESH): void {
    if (this.nNull <= threshold) return;
    let w = 0;
    for (let r = 0; r < this.items.length; r++) {
      const item = this.items[r]!;
      if (item !== null) this.items[w++] = item;
    }
    this.items.length = w;
    this.nNull = 0;
  }

  /** The live items, as a new array (safe to use while the list changes). */
  live(): T[] {
    return this.items.filter((x): x is T => x !== null);
  }
}
