package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// listTimeout bounds the whole scan of the table.
const listTimeout = 2 * setupTimeout

// dataColumn is how much of each record's data the list shows; status
// shows it all.
const dataColumn = 40

// listCommand implements `dynamutex list`: every record of the table, read
// with strongly consistent Scan requests (Session.List), which write
// nothing. Lock tables are small, so the records are collected and sorted
// by key, which makes the output stable from one run to the next. The
// permit records of a semaphore are shown as one entry after the locks.
func (a *app) listCommand(c *common, args []string) int {
	fs, o := listFlags(c)
	operands, err := c.parseInterleaved("list", fs, args)
	if err != nil {
		return a.helpOrUsage(err, listHelp)
	}
	if len(operands) > 0 {
		return a.fail(usageError("list", "list takes no arguments, got %q", operands))
	}

	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	sess, err := a.connect(ctx, c, a.clockOptions(c, o.bound, nil)...)
	if err != nil {
		return a.fail(err)
	}
	defer sess.Close(ctx)
	views := []lockView{}       // JSON [] rather than null for an empty table
	data := map[string][]byte{} // of permit records, for their holders' limits
	for info, err := range sess.List(ctx) {
		if err != nil {
			return a.fail(err)
		}
		views = append(views, viewOf(info))
		if strings.HasPrefix(info.Key, wire.SemaphoreKeyPrefix) {
			data[info.Key] = info.Data
		}
	}
	views, sems := splitPermits(views, data)
	if views == nil {
		views = []lockView{}
	}
	slices.SortFunc(views, func(x, y lockView) int {
		return cmp.Or(cmp.Compare(x.Key, y.Key), cmp.Compare(x.SortKey, y.SortKey))
	})
	if o.json {
		// Semaphores follow the locks, one entry each, told apart by
		// their "semaphore" field.
		all := make([]any, 0, len(views)+len(sems))
		for _, v := range views {
			all = append(all, v)
		}
		for _, sv := range sems {
			all = append(all, sv)
		}
		if err := writeJSON(a.stdout, all); err != nil {
			return a.fail(err)
		}
		return exitOK
	}
	if len(views) > 0 || len(sems) == 0 {
		a.printList(c.table, views)
	}
	printSemaphores(a.stdout, sems)
	return exitOK
}

// listOptions are the options of list besides the common ones.
type listOptions struct {
	json  bool
	bound time.Duration // --clock-bound, if given
}

// listFlags returns the flag set of list and the options it fills.
func listFlags(c *common) (*flag.FlagSet, *listOptions) {
	o := &listOptions{}
	fs := c.flagSet("list")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	clockBoundFlag(fs, &o.bound)
	return fs, o
}

// printList prints the records as aligned columns, then one line for each
// corrupt record saying what is wrong with it.
func (a *app) printList(table string, views []lockView) {
	if len(views) == 0 {
		fmt.Fprintf(a.stdout, "no lock records in table %q\n", table)
		return
	}
	sorted := slices.ContainsFunc(views, func(v lockView) bool { return v.SortKey != "" })
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	if sorted {
		fmt.Fprint(w, "KEY\tSORT KEY\t")
	} else {
		fmt.Fprint(w, "KEY\t")
	}
	fmt.Fprintln(w, "STATE\tTOKEN\tLEASE\tLAST WRITE\tDEADLINE\tOWNER\tDATA")
	now := time.Now() // one reference for every age, so that the rows compare
	var corrupt []lockView
	for _, v := range views {
		if v.State == stateCorrupt {
			corrupt = append(corrupt, v)
		}
		fmt.Fprint(w, display(v.Key), "\t")
		if sorted {
			fmt.Fprint(w, display(v.SortKey), "\t")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.State, v.tokenText(), v.leaseText(),
			v.lastWriteText(now), v.deadlineText(now), v.ownerText(), v.dataText(dataColumn))
	}
	_ = w.Flush()
	for _, v := range corrupt {
		fmt.Fprintf(a.stdout, "corrupt record %s: %s\n", display(v.Key), problem(v.err))
	}
}
