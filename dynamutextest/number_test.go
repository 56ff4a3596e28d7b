package dynamutextest

import "testing"

func TestCanonicalNumber(t *testing.T) {
	for in, want := range map[string]string{
		"1.50": "1.5", "007": "7", "-0": "0", "0.00": "0", "-0.0": "0", "1e2": "100", "1E+2": "100", "1.5e-3": "0.0015",
		"+5": "5", "5.": "5", ".5": "0.5", "-.5": "-0.5", "00.100": "0.1", "18446744073709551615": "18446744073709551615",
		"1e-130": "0." + zeros(129) + "1", "1.23e-5": "0.0000123", "-12.3400e1": "-123.4",
		"1234567890123456789012345678901234567800000": "1234567890123456789012345678901234567800000",
	} {
		got, err := canonicalNumber(in)
		if err != nil || got != want {
			t.Errorf("canonicalNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]error{
		"": errNotNumber, "-": errNotNumber, ".": errNotNumber, "1e": errNotNumber, "0x10": errNotNumber, " 5": errNotNumber,
		"NaN": errNotNumber, "1_000": errNotNumber, "1.2.3": errNotNumber, "1e5.5": errNotNumber,
		"123456789012345678901234567890123456789": errPrecision, "1E+126": errOverflow, "1e-131": errUnderflow,
		"1e99999999999999999999": errOverflow, "1e-99999999999999999999": errUnderflow,
	} {
		if _, err := canonicalNumber(in); err != want {
			t.Errorf("canonicalNumber(%q): %v, want %v", in, err, want)
		}
	}
}

func TestDecimalArithmetic(t *testing.T) {
	for _, tc := range []struct {
		a, b      string
		sum, diff string
	}{
		{"18446744073709551615", "1", "18446744073709551616", "18446744073709551614"},
		{"0.1", "0.2", "0.3", "-0.1"},
		{"-3", "-3", "-6", "0"},
		{"1.25", "1.25", "2.5", "0"},
		{"1e30", "1", "1000000000000000000000000000001", "999999999999999999999999999999"},
	} {
		a, b := mustDecimal(tc.a), mustDecimal(tc.b)
		if s, err := a.add(b); err != nil || s.String() != tc.sum {
			t.Errorf("%s + %s = %v, %v; want %s", tc.a, tc.b, s, err, tc.sum)
		}
		if d, err := a.sub(b); err != nil || d.String() != tc.diff {
			t.Errorf("%s - %s = %v, %v; want %s", tc.a, tc.b, d, err, tc.diff)
		}
	}
	if _, err := mustDecimal("1e20").add(mustDecimal("1e-20")); err != errPrecision {
		t.Errorf("1e20 + 1e-20: %v, want a precision error", err)
	}
	if _, err := mustDecimal("9e125").add(mustDecimal("1e125")); err != errOverflow {
		t.Errorf("9e125 + 1e125: %v, want overflow", err)
	}
	if c := mustDecimal("-5").cmp(mustDecimal("-4.99")); c >= 0 {
		t.Errorf("-5 cmp -4.99 = %d", c)
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
