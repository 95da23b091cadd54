package tracker

import (
	"container/heap"
	"slices"
)

// best keeps the n best values offered to it, by better: a min-heap
// with the worst kept value on top, so a pass over m values costs
// O(m log n) and n values of memory.
type best[T any] struct {
	n      int
	items  []T
	better func(a, b *T) bool
}

func (b *best[T]) offer(v T) {
	switch {
	case len(b.items) < b.n:
		heap.Push(b, v)
	case b.n > 0 && b.better(&v, &b.items[0]):
		b.items[0] = v
		heap.Fix(b, 0)
	}
}

// sorted returns the kept values, the best first.
func (b *best[T]) sorted() []T {
	slices.SortFunc(b.items, func(x, y T) int {
		switch {
		case b.better(&x, &y):
			return -1
		case b.better(&y, &x):
			return 1
		}
		return 0
	})
	return b.items
}

func (b *best[T]) Len() int           { return len(b.items) }
func (b *best[T]) Less(i, j int) bool { return b.better(&b.items[j], &b.items[i]) }
func (b *best[T]) Swap(i, j int)      { b.items[i], b.items[j] = b.items[j], b.items[i] }
func (b *best[T]) Push(x any)         { b.items = append(b.items, x.(T)) }
func (b *best[T]) Pop() any {
	x := b.items[len(b.items)-1]
	b.items = b.items[:len(b.items)-1]
	return x
}
