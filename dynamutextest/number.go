package dynamutextest

import (
	"math/big"
	"strings"
)

// DynamoDB numbers are decimals of up to 38 significant digits, with
// magnitudes from 1e-130 to below 1e126. A float64 would round the uint64
// tokens a lock library writes (and 0.1+0.2), so numbers are kept exactly as
// coefficient × 10^exp with an arbitrary-precision integer coefficient.
const (
	maxDigits   = 38
	maxExponent = 125  // the largest allowed position of the first digit
	minExponent = -130 // the smallest
)

// decimal is an exact decimal number. It is normalized: coef has no trailing
// zero digits, and zero is coef 0 with exp 0, so equal numbers are equal
// structs (up to the big.Int pointer).
type decimal struct {
	coef *big.Int // signed
	exp  int
}

var bigTen = big.NewInt(10)

// numberError names what is wrong with a number, in DynamoDB's words.
type numberError string

func (e numberError) Error() string { return string(e) }

const (
	errNotNumber = numberError("A value provided cannot be converted into a number")
	errPrecision = numberError("DynamoDB only supports precision up to 38 digits")
	errOverflow  = numberError("Number overflow. Attempting to store a number with magnitude larger than supported range")
	errUnderflow = numberError("Number underflow. Attempting to store a number with magnitude smaller than supported range")
)

// parseDecimal parses DynamoDB's number syntax: an optional sign, digits
// with an optional decimal point, and an optional exponent. It checks the
// range and precision before building the coefficient, so that "1e999999999"
// costs nothing.
func parseDecimal(s string) (decimal, error) {
	neg, rest := false, s
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	mant, expPart, hasExp := cutExponent(rest)
	intPart, fracPart, _ := strings.Cut(mant, ".")
	if intPart == "" && fracPart == "" || !allDigits(intPart) || !allDigits(fracPart) {
		return decimal{}, errNotNumber
	}
	exp := 0
	if hasExp {
		e, ok := parseExponent(expPart)
		if !ok {
			return decimal{}, errNotNumber
		}
		exp = e
	}
	digits := strings.TrimLeft(intPart+fracPart, "0")
	exp -= len(fracPart)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	if trimmed == "" {
		return decimal{coef: new(big.Int)}, nil
	}
	if len(trimmed) > maxDigits {
		return decimal{}, errPrecision
	}
	if err := checkMagnitude(len(trimmed), exp); err != nil {
		return decimal{}, err
	}
	coef, _ := new(big.Int).SetString(trimmed, 10)
	if neg {
		coef.Neg(coef)
	}
	return decimal{coef: coef, exp: exp}, nil
}

// cutExponent splits "1.5e-3" into "1.5" and "-3".
func cutExponent(s string) (mant, exp string, ok bool) {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseExponent reads a signed exponent, saturating far beyond any valid
// number so that a huge exponent fails the range check instead of wrapping.
func parseExponent(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || !allDigits(s) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if n < 1_000_000 {
			n = n*10 + int(s[i]-'0')
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// checkMagnitude checks a number of n significant digits whose last digit
// is at position exp.
func checkMagnitude(n, exp int) error {
	switch first := exp + n - 1; {
	case first > maxExponent:
		return errOverflow
	case first < minExponent:
		return errUnderflow
	}
	return nil
}

// normalize strips trailing zeros and checks the result is a number
// DynamoDB can store.
func normalize(coef *big.Int, exp int) (decimal, error) {
	if coef.Sign() == 0 {
		return decimal{coef: new(big.Int)}, nil
	}
	c := new(big.Int).Set(coef)
	q, r := new(big.Int), new(big.Int)
	for {
		q.QuoRem(c, bigTen, r)
		if r.Sign() != 0 {
			break
		}
		c.Set(q)
		exp++
	}
	n := len(c.String())
	if c.Sign() < 0 {
		n--
	}
	if n > maxDigits {
		return decimal{}, errPrecision
	}
	if err := checkMagnitude(n, exp); err != nil {
		return decimal{}, err
	}
	return decimal{coef: c, exp: exp}, nil
}

// aligned returns the coefficients of a and b scaled to their common
// (smaller) exponent.
func aligned(a, b decimal) (x, y *big.Int, exp int) {
	exp = min(a.exp, b.exp)
	scale := func(d decimal) *big.Int {
		m := new(big.Int).Exp(bigTen, big.NewInt(int64(d.exp-exp)), nil)
		return m.Mul(m, d.coef)
	}
	return scale(a), scale(b), exp
}

// add returns a+b, or an error if DynamoDB could not store the result.
func (a decimal) add(b decimal) (decimal, error) {
	x, y, exp := aligned(a, b)
	return normalize(x.Add(x, y), exp)
}

// sub returns a-b, or an error if DynamoDB could not store the result.
func (a decimal) sub(b decimal) (decimal, error) {
	x, y, exp := aligned(a, b)
	return normalize(x.Sub(x, y), exp)
}

// cmp compares a and b like big.Int.Cmp.
func (a decimal) cmp(b decimal) int {
	if sa, sb := a.coef.Sign(), b.coef.Sign(); sa != sb {
		return sa - sb
	}
	x, y, _ := aligned(a, b)
	return x.Cmp(y)
}

// String formats the number the way DynamoDB returns it: plain notation,
// no exponent, no leading or trailing zeros, "0" for zero.
func (a decimal) String() string {
	if a.coef.Sign() == 0 {
		return "0"
	}
	digits := new(big.Int).Abs(a.coef).String()
	sign := ""
	if a.coef.Sign() < 0 {
		sign = "-"
	}
	switch {
	case a.exp >= 0:
		return sign + digits + strings.Repeat("0", a.exp)
	case -a.exp < len(digits):
		point := len(digits) + a.exp
		return sign + digits[:point] + "." + digits[point:]
	default:
		return sign + "0." + strings.Repeat("0", -a.exp-len(digits)) + digits
	}
}

// digitCount is the number of significant digits, used for item sizes.
func (a decimal) digitCount() int {
	if a.coef.Sign() == 0 {
		return 1
	}
	return len(new(big.Int).Abs(a.coef).String())
}

// canonicalNumber returns DynamoDB's form of the number s.
func canonicalNumber(s string) (string, error) {
	d, err := parseDecimal(s)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// mustDecimal parses a number already validated on the way in.
func mustDecimal(s string) decimal {
	d, err := parseDecimal(s)
	if err != nil {
		// Stored numbers are canonical; this only guards against a bug
		// turning into a panic in the caller's test.
		return decimal{coef: new(big.Int)}
	}
	return d
}
