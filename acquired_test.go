package dynamutex_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// lockHow locks key in s, unlocks it, and returns the How of the one
// EventAcquired the acquisition sent to rec.
func lockHow(t *testing.T, s *dynamutex.Session, rec *recorder, key string) dynamutex.AcquiredHow {
	t.Helper()
	ctx := context.Background()
	before := len(rec.find(dynamutex.EventAcquired, key))
	m := s.NewMutex(key)
	if _, err := m.Lock(ctx); err != nil {
		t.Fatalf("Lock %q: %v", key, err)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatalf("Unlock %q: %v", key, err)
	}
	got := rec.find(dynamutex.EventAcquired, key)
	if len(got) != before+1 {
		t.Fatalf("%d EventAcquired for %q, want %d", len(got), key, before+1)
	}
	return got[before].How
}

// A key never locked is free; locked again after Unlock it comes released;
// after its record is deleted, as its TTL would, it is free again. Events
// other than EventAcquired carry no How.
func TestAcquiredHowFreeReleasedGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		rec := &recorder{}
		s := memSession(t, db, dynamutex.WithObserver(rec))
		defer s.Close(context.Background())

		steps := []struct {
			name   string
			before func()
			want   dynamutex.AcquiredHow
		}{
			{"never locked", func() {}, dynamutex.AcquiredFree},
			{"released", func() {}, dynamutex.AcquiredReleased},
			{"record deleted", func() { deleteRecord(t, db, "k") }, dynamutex.AcquiredFree},
		}
		for _, st := range steps {
			st.before()
			if got := lockHow(t, s, rec, "k"); got != st.want {
				t.Errorf("%s: How = %v, want %v", st.name, got, st.want)
			}
		}
		for _, ev := range rec.find(dynamutex.EventReleased, "k") {
			if ev.How != 0 {
				t.Errorf("EventReleased carries How %v, want zero", ev.How)
			}
		}
	})
}

func deleteRecord(t *testing.T, db testDB, key string) {
	t.Helper()
	_, err := db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String("locks"),
		Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		t.Fatal(err)
	}
}

// A crashed holder's record, watched unchanged for a lease, is a takeover
// by watching; with a clock bound on both sides, a cold start takes it by
// clock in its first write.
func TestAcquiredHowTakeovers(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []dynamutex.Option
		want dynamutex.AcquiredHow
	}{
		{"watched", nil, dynamutex.AcquiredTakeoverWatched},
		{"clock", []dynamutex.Option{dynamutex.WithClockBound(testBound)}, dynamutex.AcquiredTakeoverClock},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				db := dynamutextest.New()
				crash(t, db, "job", c.opts...)
				time.Sleep(3 * dynamutex.DefaultLeaseDuration)
				rec := &recorder{}
				s := memSession(t, db, append([]dynamutex.Option{dynamutex.WithObserver(rec)}, c.opts...)...)
				defer s.Close(context.Background())
				if got := lockHow(t, s, rec, "job"); got != c.want {
					t.Errorf("How = %v, want %v", got, c.want)
				}
			})
		})
	}
}

// A Lock whose first write landed with its reply lost adopts the record
// its retry finds.
func TestAcquiredHowAdopted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := newTap(dynamutextest.New())
		db.setFault(dropFirst(opAcquire))
		rec := &recorder{}
		s := memSession(t, db, dynamutex.WithObserver(rec))
		defer s.Close(context.Background())
		if got := lockHow(t, s, rec, "k"); got != dynamutex.AcquiredAdopted {
			t.Errorf("How = %v, want %v", got, dynamutex.AcquiredAdopted)
		}
		if n := db.count(opAcquire); n != 2 {
			t.Errorf("%d acquire requests, want 2 (the lost one and the retry that adopts it)", n)
		}
	})
}

// The names are metric attribute values: short, stable and lowercase.
func TestAcquiredHowString(t *testing.T) {
	want := map[dynamutex.AcquiredHow]string{
		dynamutex.AcquiredFree: "free", dynamutex.AcquiredReleased: "released",
		dynamutex.AcquiredTakeoverWatched: "takeover_watched", dynamutex.AcquiredTakeoverClock: "takeover_clock",
		dynamutex.AcquiredAdopted: "adopted", 0: "AcquiredHow(0)",
	}
	for h, s := range want {
		if h.String() != s {
			t.Errorf("AcquiredHow(%d).String() = %q, want %q", int(h), h.String(), s)
		}
	}
}
