// Command demo shows dynamutex across processes: several worker processes
// contend for one lock against DynamoDB, each holder makes a write fenced by
// its token, one holder is killed with SIGKILL while it holds the lock, and a
// waiter takes the lock over once the lease has run out.
//
// Run it with `make demo`, which starts DynamoDB Local. It uses the AWS SDK's
// default configuration, so it runs against whatever DynamoDB that names:
// DynamoDB Local when AWS_ENDPOINT_URL_DYNAMODB is set (as `make local`
// prints), the real service otherwise.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

const (
	lockTable   = "dynamutex_demo"
	ledgerTable = "dynamutex_demo_ledger"
	lockKey     = "demo/nightly-job"
	lease       = 1500 * time.Millisecond
)

func main() {
	worker := flag.Int("worker", -1, "run as worker N (used by the demo itself)")
	workers := flag.Int("workers", 4, "number of worker processes")
	duration := flag.Duration("duration", 10*time.Second, "how long the demo runs")
	flag.Parse()
	log.SetFlags(0)

	ctx := context.Background()
	client, err := newClient(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if *worker >= 0 {
		runWorker(client, *worker)
		return
	}
	if err := runParent(ctx, client, *workers, *duration); err != nil {
		log.Fatal("demo: ", err)
	}
}

func newClient(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// DynamoDB Local leaves the CRC32 header out of error replies, and
		// the SDK would log a warning for each failed condition of a
		// contended lock. Against the real service the check stays on.
		o.DisableValidateResponseChecksum = o.BaseEndpoint != nil
	}), nil
}

// event is one line a worker prints: "<what> <token>".
type event struct {
	worker int
	what   string
	token  uint64
	at     time.Time
}

func runParent(ctx context.Context, client *dynamodb.Client, n int, duration time.Duration) error {
	for _, t := range []string{lockTable, ledgerTable} {
		if err := dynamutex.CreateTable(ctx, client, t); err != nil {
			return err
		}
	}
	fmt.Printf("%d worker processes contend for %q (lease %v); each holder writes to a ledger that refuses stale tokens.\n\n",
		n, lockKey, lease)
	events := make(chan event)
	procs, err := startWorkers(n, events)
	if err != nil {
		return err
	}
	t := &tally{start: time.Now(), procs: procs, killed: -1, perWorker: make([]int, n)}
	deadline := time.After(duration)
loop:
	for {
		select {
		case <-deadline:
			break loop
		case e := <-events:
			t.record(e)
		}
	}
	for i, p := range procs {
		if i != t.killed {
			p.Process.Signal(syscall.SIGTERM)
		}
	}
	go func() {
		for range events {
		}
	}()
	for _, p := range procs {
		p.Wait()
	}
	return t.report(duration)
}

// startWorkers starts n worker processes, each sending the events it
// prints to events.
func startWorkers(n int, events chan<- event) ([]*exec.Cmd, error) {
	procs := make([]*exec.Cmd, n)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-worker", strconv.Itoa(i))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		procs[i] = cmd
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 2 {
					tok, _ := strconv.ParseUint(f[1], 10, 64)
					events <- event{worker: i, what: f[0], token: tok, at: time.Now()}
				}
			}
		}()
	}
	return procs, nil
}

// tally follows the workers' events: it prints each, checks that tokens
// only grow, and kills the fourth holder to show its lock taken over.
type tally struct {
	start                 time.Time
	procs                 []*exec.Cmd
	acquisitions, refused int
	violations            int
	last                  uint64
	killed                int // the worker killed, -1 until then
	killedAt              time.Time
	killedToken           uint64
	takeover              time.Duration
	perWorker             []int
}

func (t *tally) record(e event) {
	stamp := fmt.Sprintf("%5.2fs  worker %d", e.at.Sub(t.start).Seconds(), e.worker)
	switch e.what {
	case "acquired":
		t.acquired(e, stamp)
	case "refused":
		t.refused++
		fmt.Printf("%s  ledger refused token %d\n", stamp, e.token)
	case "released":
		fmt.Printf("%s  released  token %d\n", stamp, e.token)
	}
}

func (t *tally) acquired(e event, stamp string) {
	t.acquisitions++
	t.perWorker[e.worker]++
	note := ""
	if e.token <= t.last {
		note = "  <-- TOKEN DID NOT INCREASE"
		t.violations++
	}
	t.last = e.token
	if t.killed >= 0 && t.takeover == 0 {
		t.takeover = e.at.Sub(t.killedAt)
		note = fmt.Sprintf("  <-- took over from killed worker %d after %v (lease %v)",
			t.killed, t.takeover.Round(time.Millisecond), lease)
	}
	fmt.Printf("%s  acquired  token %d%s\n", stamp, e.token, note)
	if t.killed < 0 && t.acquisitions >= 4 {
		t.procs[e.worker].Process.Signal(syscall.SIGKILL)
		t.killed, t.killedAt, t.killedToken = e.worker, time.Now(), e.token
		fmt.Printf("%s  KILLED (SIGKILL) while holding token %d\n", stamp, e.token)
	}
}

// report prints the summary, and fails if a token did not grow, a worker
// never got the lock, or no takeover happened.
func (t *tally) report(duration time.Duration) error {
	if t.violations > 0 {
		return fmt.Errorf("%d acquisitions did not increase the token", t.violations)
	}
	fmt.Printf("\n%d acquisitions, tokens strictly increasing, %d stale ledger writes refused.\n", t.acquisitions, t.refused)
	fmt.Printf("Acquisitions by worker: %v.\n", t.perWorker)
	// A worker that waits past a second claims the next turn, so none
	// starves behind the others' immediate re-locks.
	for i, k := range t.perWorker {
		if k == 0 {
			return fmt.Errorf("worker %d never got the lock in %v", i, duration)
		}
	}
	if t.killed < 0 || t.takeover == 0 {
		return fmt.Errorf("no holder was killed and taken over within %v; run longer with -duration", duration)
	}
	fmt.Printf("Worker %d was killed holding token %d; its lock was taken over %v later.\n",
		t.killed, t.killedToken, t.takeover.Round(time.Millisecond))
	return nil
}

func runWorker(client *dynamodb.Client, id int) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	sess, err := dynamutex.NewSession(ctx, client, lockTable,
		dynamutex.WithOwner(fmt.Sprintf("worker-%d/pid-%d", id, os.Getpid())),
		dynamutex.WithLeaseDuration(lease)) // the heartbeat and safe time follow it
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close(context.Background())
	m := sess.NewMutex(lockKey)
	for ctx.Err() == nil {
		lctx, err := m.Lock(ctx)
		if err != nil {
			return
		}
		l, _ := dynamutex.LeaseFrom(lctx)
		fmt.Println("acquired", l.Token())
		if err := fencedWrite(lctx, client, l.Token(), id); errors.Is(err, errStale) {
			fmt.Println("refused", l.Token())
		}
		select {
		case <-lctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
		m.Unlock(context.Background())
		fmt.Println("released", l.Token())
		time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
	}
}

var errStale = errors.New("stale token")

// fencedWrite records the token in the ledger only if no higher token has
// written there: the store, not the lock, has the last word.
func fencedWrite(ctx context.Context, client *dynamodb.Client, token uint64, worker int) error {
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(ledgerTable),
		Key:                 map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: lockKey}},
		UpdateExpression:    aws.String("SET fence = :t, writer = :w"),
		ConditionExpression: aws.String("attribute_not_exists(fence) OR fence < :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberN{Value: strconv.FormatUint(token, 10)},
			":w": &types.AttributeValueMemberN{Value: strconv.Itoa(worker)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return errStale
	}
	return err
}
