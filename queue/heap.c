/* heap - a binary min-heap of delivery units that knows each one's place,
 * so the scheduler can take any unit out in O(log n). */
#include <stdlib.h>

#include "queue.h"
#include "xalloc.h"

void
heap_init(struct heap *h, heap_less_fn *less)
{
	h->a = NULL;
	h->n = h->cap = 0;
	h->less = less;
}

void
heap_release(struct heap *h)
{
	free(h->a);
	h->a = NULL;
	h->n = h->cap = 0;
}

static void
heap_set(struct heap *h, size_t i, struct qdu *d)
{
	h->a[i] = d;
	d->hidx = i;
}

static void
heap_up(struct heap *h, size_t i)
{
	struct qdu *d = h->a[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!h->less(d, h->a[p]))
			break;
		heap_set(h, i, h->a[p]);
		i = p;
	}
	heap_set(h, i, d);
}

static void
heap_down(struct heap *h, size_t i)
{
	struct qdu *d = h->a[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->less(h->a[c + 1], h->a[c]))
			c++;
		if (!h->less(h->a[c], d))
			break;
		heap_set(h, i, h->a[c]);
		i = c;
	}
	heap_set(h, i, d);
}

void
heap_push(struct heap *h, struct qdu *d)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->a = xrealloc(h->a, h->cap * sizeof(*h->a));
	}
	heap_set(h, h->n++, d);
	heap_up(h, h->n - 1);
}

struct qdu *
heap_top(const struct heap *h)
{
	return h->n > 0 ? h->a[0] : NULL;
}

struct qdu *
heap_pop(struct heap *h)
{
	struct qdu *top;

	if (h->n == 0)
		return NULL;
	top = h->a[0];
	heap_remove(h, top);
	return top;
}

void
heap_remove(struct heap *h, struct qdu *d)
{
	size_t i = d->hidx;
	struct qdu *last;

	ASSERT(i < h->n && h->a[i] == d);
	last = h->a[--h->n];
	if (i == h->n)
		return;
	heap_set(h, i, last);
	if (i > 0 && h->less(last, h->a[(i - 1) / 2]))
		heap_up(h, i);
	else
		heap_down(h, i);
}
