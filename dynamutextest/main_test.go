package dynamutextest_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/dynamutex/dynamutex/internal/localdb"
)

// TestMain fails the run if any test leaves a goroutine behind: the Store
// starts none, and every Session a test opens must be closed. Idle HTTP
// connections to DynamoDB Local are closed first, since their goroutines
// belong to the transport, not to a test.
func TestMain(m *testing.M) {
	code := m.Run()
	localdb.CloseIdle()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines left running after the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}
