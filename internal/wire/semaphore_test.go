package wire

import "testing"

// ParsePermitKey reads back exactly what PermitKey writes, colons in the
// name included, and nothing that is no permit key.
func TestParsePermitKey(t *testing.T) {
	for _, name := range []string{"deploys", "a:b", "x:"} {
		for _, i := range []int{0, 7, 99} {
			got, j, ok := ParsePermitKey(PermitKey(name, i))
			if !ok || got != name || j != i {
				t.Errorf("ParsePermitKey(PermitKey(%q, %d)) = %q, %d, %v", name, i, got, j, ok)
			}
		}
	}
	for _, key := range []string{"deploys:1", SemaphoreKeyPrefix + "deploys", SemaphoreKeyPrefix + "deploys:x",
		SemaphoreKeyPrefix + "deploys:-1", SemaphoreKeyPrefix + "deploys:"} {
		if name, i, ok := ParsePermitKey(key); ok {
			t.Errorf("ParsePermitKey(%q) = %q, %d, true; want no permit key", key, name, i)
		}
	}
}
