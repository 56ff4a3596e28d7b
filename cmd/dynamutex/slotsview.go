package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// semaphoreView is a semaphore as status --slots and list show it: one
// entry, with its holders out of n and each permit's record.
type semaphoreView struct {
	Semaphore string `json:"semaphore"`
	// Slots is n: as given to status --slots; in list, the largest limit
	// a holder runs with, or the number of permit records if none is held.
	Slots   int          `json:"slots"`
	Holders int          `json:"holders"`
	Permits []permitView `json:"permits"`
}

// permitView is one permit: its index, the limit its holder runs with
// (left out when none is recorded), and its record as status shows a lock.
type permitView struct {
	Index int `json:"index"`
	Limit int `json:"limit,omitempty"`
	lockView
}

// permitOf returns the view of one permit record.
func permitOf(i int, v lockView, data []byte) permitView {
	p := permitView{Index: i, lockView: v}
	if v.State == stateHeld {
		p.Limit, _ = dynamutex.PermitLimit(data)
	}
	return p
}

// inspectSlots reads the n permits of semaphore name (status --slots).
func (a *app) inspectSlots(c *common, name string, n int, opts ...dynamutex.Option) (semaphoreView, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	sess, err := a.connect(ctx, c, opts...)
	if err != nil {
		return semaphoreView{}, err
	}
	defer sess.Close(ctx)
	infos, err := sess.NewSemaphore(name, n).Inspect(ctx)
	if err != nil {
		return semaphoreView{}, err
	}
	sv := semaphoreView{Semaphore: name, Slots: n}
	for i, info := range infos {
		v := absentView(info.Key)
		if !errors.Is(info.Err, dynamutex.ErrNoRecord) {
			v = viewOf(info)
		}
		sv.add(permitOf(i, v, info.Data))
	}
	return sv, nil
}

func (sv *semaphoreView) add(p permitView) {
	if p.State == stateHeld {
		sv.Holders++
	}
	sv.Permits = append(sv.Permits, p)
}

// printSlots prints a semaphore for people.
func printSlots(out io.Writer, sv semaphoreView) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "semaphore:\t%s\n", display(sv.Semaphore))
	fmt.Fprintf(w, "holders:\t%d of %d\n", sv.Holders, sv.Slots)
	now := time.Now()
	for _, p := range sv.Permits {
		fmt.Fprintf(w, "permit %d:\t%s\n", p.Index, p.text(now))
	}
	_ = w.Flush()
}

// text is one permit's line: its state and, when held, its holder.
func (p permitView) text(now time.Time) string {
	if p.State != stateHeld {
		return p.State
	}
	limit := ""
	if p.Limit > 0 {
		limit = fmt.Sprintf(", limit %d", p.Limit)
	}
	return fmt.Sprintf("held by %s (token %s, last write %s%s)", p.ownerText(), p.tokenText(), p.lastWriteText(now), limit)
}

// splitPermits takes the permit records out of a list's views and returns
// the other views and the semaphores, one entry each, sorted by name.
func splitPermits(views []lockView, data map[string][]byte) ([]lockView, []semaphoreView) {
	var locks []lockView
	byName := map[string]*semaphoreView{}
	for _, v := range views {
		name, i, ok := wire.ParsePermitKey(v.Key)
		if !ok {
			locks = append(locks, v)
			continue
		}
		sv := byName[name]
		if sv == nil {
			sv = &semaphoreView{Semaphore: name}
			byName[name] = sv
		}
		p := permitOf(i, v, data[v.Key])
		sv.add(p)
		sv.Slots = max(sv.Slots, p.Limit)
	}
	var sems []semaphoreView
	for _, sv := range byName {
		slices.SortFunc(sv.Permits, func(x, y permitView) int { return cmp.Compare(x.Index, y.Index) })
		if sv.Slots == 0 {
			sv.Slots = len(sv.Permits)
		}
		sems = append(sems, *sv)
	}
	slices.SortFunc(sems, func(x, y semaphoreView) int { return cmp.Compare(x.Semaphore, y.Semaphore) })
	return locks, sems
}

// printSemaphores prints list's semaphores after its locks, one line each.
func printSemaphores(out io.Writer, sems []semaphoreView) {
	if len(sems) == 0 {
		return
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SEMAPHORE\tHOLDERS\tHELD PERMITS (index: owner, token)")
	for _, sv := range sems {
		var held []string
		for _, p := range sv.Permits {
			if p.State == stateHeld {
				held = append(held, fmt.Sprintf("%d: %s, %s", p.Index, p.ownerText(), p.tokenText()))
			}
		}
		fmt.Fprintf(w, "%s\t%d of %d\t%s\n", display(sv.Semaphore), sv.Holders, sv.Slots, strings.Join(held, "; "))
	}
	_ = w.Flush()
}
