package i2p

import (
	"crypto/sha512"
	"math/big"
	"slices"
)

// A slow, plain math/big model of edwards25519 (RFC 8032 §5.1), written for
// the tests only: it lets them make signatures crypto/ed25519 cannot (RedDSA,
// with its random nonce and scalar private key) and recompute Ed25519 ones
// independently of the package under test. Nothing here is constant time.

// edPoint is an affine point (x, y) on -x² + y² = 1 + d·x²·y² over GF(p).
type edPoint struct{ x, y *big.Int }

var (
	edP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// edL is the order of the base point: 2^252 + 27742317777372353535851937790883648493.
	edL = func() *big.Int {
		l, _ := new(big.Int).SetString("27742317777372353535851937790883648493", 10)
		return l.Add(l, new(big.Int).Lsh(big.NewInt(1), 252))
	}()
	// edD is -121665/121666 mod p.
	edD = func() *big.Int {
		d := new(big.Int).ModInverse(big.NewInt(121666), edP)
		d.Mul(d, big.NewInt(-121665))
		return d.Mod(d, edP)
	}()
	edB = func() edPoint {
		x, _ := new(big.Int).SetString("15112221349535400772501151409588531511454012693041857206046113283949847762202", 10)
		y, _ := new(big.Int).SetString("46316835694926478169428394003475163141307993866256225615783033603165251855960", 10)
		return edPoint{x, y}
	}()
)

// add is the complete twisted Edwards addition law (a = -1).
func (p edPoint) add(q edPoint) edPoint {
	x1y2 := new(big.Int).Mul(p.x, q.y)
	y1x2 := new(big.Int).Mul(p.y, q.x)
	y1y2 := new(big.Int).Mul(p.y, q.y)
	x1x2 := new(big.Int).Mul(p.x, q.x)
	t := new(big.Int).Mul(x1x2, y1y2)
	t.Mul(t, edD).Mod(t, edP)
	xDen := new(big.Int).Add(big.NewInt(1), t)
	yDen := new(big.Int).Sub(big.NewInt(1), t)
	x := x1y2.Add(x1y2, y1x2)
	x.Mul(x, xDen.ModInverse(xDen.Mod(xDen, edP), edP)).Mod(x, edP)
	y := y1y2.Add(y1y2, x1x2)
	y.Mul(y, yDen.ModInverse(yDen.Mod(yDen, edP), edP)).Mod(y, edP)
	return edPoint{x, y}
}

// mul returns k·p by double and add.
func (p edPoint) mul(k *big.Int) edPoint {
	r := edPoint{big.NewInt(0), big.NewInt(1)}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = r.add(r)
		if k.Bit(i) == 1 {
			r = r.add(p)
		}
	}
	return r
}

// encode is the 32-byte form: y little-endian, the sign of x in the top bit.
func (p edPoint) encode() []byte {
	out := leBytes(p.y)
	out[31] |= byte(p.x.Bit(0)) << 7
	return out
}

func leBytes(n *big.Int) []byte {
	out := n.FillBytes(make([]byte, 32))
	slices.Reverse(out)
	return out
}

func leInt(b []byte) *big.Int {
	be := slices.Clone(b)
	slices.Reverse(be)
	return new(big.Int).SetBytes(be)
}

// hashScalar is SHA-512 of the parts as a little-endian integer mod L.
func hashScalar(parts ...[]byte) *big.Int {
	h := sha512.New()
	for _, p := range parts {
		h.Write(p)
	}
	s := leInt(h.Sum(nil))
	return s.Mod(s, edL)
}

// edSign is Schnorr signing with the private scalar a, the public key A
// and the nonce r: R = r·B, S = r + SHA-512(R‖A‖M)·a mod L.
func edSign(a *big.Int, pub []byte, r *big.Int, msg []byte) []byte {
	rEnc := edB.mul(r).encode()
	s := hashScalar(rEnc, pub, msg)
	s.Mul(s, a).Add(s, r).Mod(s, edL)
	return append(rEnc, leBytes(s)...)
}

// refEd25519 derives the RFC 8032 key from a seed and signs msg with the
// deterministic nonce SHA-512(prefix‖M): pure Ed25519, what the reference
// router's EdDSAEngine computes for types 7 and 8.
func refEd25519(seed, msg []byte) (pub, sig []byte) {
	h := sha512.Sum512(seed)
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	a := leInt(h[:32])
	pub = edB.mul(a).encode()
	return pub, edSign(a, pub, hashScalar(h[32:], msg), msg)
}

// refRedDSA signs msg as the reference router's RedDSAEngine does for type
// 11: a is the private scalar itself (no seed hashing), and the nonce is
// SHA-512(T‖A‖M) with T 80 random bytes.
func refRedDSA(a *big.Int, t [80]byte, msg []byte) (pub, sig []byte) {
	pub = edB.mul(a).encode()
	return pub, edSign(a, pub, hashScalar(t[:], pub, msg), msg)
}
