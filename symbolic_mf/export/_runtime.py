# Runtime of the exported homogeneous-family kernels.  This file is copied
# verbatim into every generated NumPy / JAX module, so it imports nothing:
# ``xp`` is numpy or jax.numpy, passed in.  Coefficients are computed once,
# at export time, by symbolic_mf.export.family (mpmath, 60 digits).
#
# For one rectified power rho_beta the kernel k(c) = E[rho_beta(u) rho_beta(v)]
# (unit variances, correlation c) is evaluated by region, each a sum of
# terms of one sign or (connection series, y < 0.15) of little cancellation:
#   c < 0  : k = (1+c)^(beta+1/2) * sum_n f[n] x^n,        x = (1+c)/2 <= 1/2
#            (Mehler-Dirichlet form: C_beta (1+c)^(beta+1/2) 2F1(1/2,1/2;beta+3/2;x))
#   0 <= c <= 0.7: k = E(c) + O(c), the Hermite even and odd series in c^2
#   c > 0.7: k = sum p[n] y^n + y^s sum q[n] y^n [+ y^m log(y) sum r[n] y^n],
#            y = (1-c)/2 < 0.15, s = beta+1/2 (connection formula at x = 1;
#            the log series only when s is an integer m)
# and the odd part O(c) = (k(c) - k(-c))/2 = c sum o[n] c^(2n) for |c| <= 0.7
# (Hermite/Mehler series).  For beta = 0 and 1 (P["elem"], the NNGP and NTK of
# ReLU-like phi) the arc-cosine kernels replace the series where their terms
# have one sign: k_0 = phi/(2 pi) everywhere, k_1 = (s + phi c)/(2 pi) for c >= 0,
# phi = atan2(s, -c), s = sqrt((1-c)(1+c)); O = c/4 (beta = 1), atan2(c, s)/(2 pi)
# (beta = 0).  The family member phi = a rho(x) - b rho(-x) has
#   K(c) = (a^2+b^2) k(c) - 2ab k(-c)           if ab <= 0  (two positive terms)
#     or (a-b)^2 E(c) + (a+b)^2 O(c)            if ab > 0, whichever cancels less at
#                                                that c (E = even part)


def _horner(xp, coeffs, t, h):
    """sum_k coeffs[k] T_k(2t/h - 1): a Chebyshev series on [0, h] (Clenshaw),
    or the power series sum_k coeffs[k] t^k when h = 0 (Horner)."""
    if not h:
        acc = xp.zeros_like(t) + coeffs[-1]
        for cf in coeffs[-2::-1]:
            acc = acc * t + cf
        return acc
    u = t * (2.0 / h) - 1
    u2 = 2 * u
    b1 = xp.zeros_like(u)
    b2 = xp.zeros_like(u)
    for cf in coeffs[:0:-1]:
        b1, b2 = u2 * b1 - b2 + cf, b1
    return u * b1 - b2 + coeffs[0]


def _pow(xp, t, P):
    """t**s for the exact s = s_hi + s_lo (s_lo: the rounding error of s in float)."""
    out = t ** P["s"]
    if P["s_lo"]:
        tl = xp.where(t > 0, t, xp.ones_like(t))
        out = out * (1 + P["s_lo"] * xp.log(tl))
    return out


def _horner_np(np, coeffs, t, h):
    """NumPy Clenshaw (or Horner when h = 0) with few temporaries."""
    if not h:
        acc = np.full_like(t, coeffs[-1])
        for cf in coeffs[-2::-1]:
            acc *= t
            acc += cf
        return acc
    u = t * (2.0 / h)
    u -= 1
    u2 = 2 * u
    b1 = np.zeros_like(u)
    b2 = np.zeros_like(u)
    tmp = np.empty_like(u)
    for cf in coeffs[:0:-1]:
        np.multiply(u2, b1, out=tmp)
        tmp -= b2
        tmp += cf
        b2, b1, tmp = b1, tmp, b2
    b1 *= u
    b1 -= b2
    b1 += coeffs[0]
    return b1


_INV_2PI = 0.15915494309189535  # 1/(2 pi) rounded to float64


def _elementary(xp, P, c):
    """The arc-cosine kernel k_0 (all c) or k_1 (c >= 0 only): no series."""
    s = xp.sqrt((1 - c) * (1 + c))
    phi = xp.arctan2(s, -c)
    if P["elem"] == 0:
        return phi * _INV_2PI
    return (s + phi * c) * _INV_2PI


def _rho_kernel_masked(np, P, c):
    """NumPy: the same regions, each evaluated only on its own entries."""
    c = np.asarray(c)
    shape, c = c.shape, c.reshape(-1)
    if P.get("elem", -1) == 0:
        return _elementary(np, P, c).reshape(shape)
    out = np.empty_like(c)
    left = c < 0
    x = (1 + c[left]) / 2
    out[left] = _pow(np, 2 * x, P) * _horner_np(np, P["f"], x, P["hf"])
    if P.get("elem", -1) == 1:
        out[~left] = _elementary(np, P, c[~left])
        return out.reshape(shape)
    right = c > P["c_right"]
    mid = ~(left | right)
    y = (1 - c[right]) / 2
    kr = _horner_np(np, P["p"], y, P["hp"]) + _pow(np, y, P) * _horner_np(np, P["q"], y, P["hq"])
    if P["r"]:
        pos = y > 0
        kr[pos] += y[pos] ** P["m"] * np.log(y[pos]) * _horner_np(np, P["r"], y[pos], P["hr"])
    out[right] = kr
    cm = c[mid]
    z = cm * cm
    out[mid] = _horner_np(np, P["e"], z, P["he"]) + cm * _horner_np(np, P["o"], z, P["ho"])
    return out.reshape(shape)


def _rho_kernel(xp, P, c):
    """k(c) for one rho_beta, c an array in [-1, 1]."""
    if getattr(xp, "__name__", "") == "numpy":
        return _rho_kernel_masked(xp, P, c)
    elem = P.get("elem", -1)
    if elem == 0:
        return _elementary(xp, P, c)
    left = c < 0
    if elem == 1:
        x = xp.where(left, (1 + c) / 2, 0 * c)
        kl = _pow(xp, 2 * x, P) * _horner(xp, P["f"], x, P["hf"])
        return xp.where(left, kl, _elementary(xp, P, xp.where(left, 0 * c, c)))
    right = c > P["c_right"]
    one = xp.ones_like(c)
    x = xp.where(left, (1 + c) / 2, 0 * one)
    kl = _pow(xp, 2 * x, P) * _horner(xp, P["f"], x, P["hf"])
    y = xp.where(right, (1 - c) / 2, 0.125 * one)
    ys = xp.where(right, y, one)
    kr = _horner(xp, P["p"], y, P["hp"]) + _pow(xp, ys, P) * _horner(xp, P["q"], y, P["hq"])
    if P["r"]:
        ylog = xp.where(y > 0, y, one)
        kr = kr + xp.where(y > 0, ylog ** P["m"] * xp.log(ylog) * _horner(xp, P["r"], y, P["hr"]), 0 * one)
    cm = xp.where(left | right, 0 * one, c)
    z = cm * cm
    km = _horner(xp, P["e"], z, P["he"]) + cm * _horner(xp, P["o"], z, P["ho"])
    return xp.where(left, kl, xp.where(right, kr, km))


def _odd_part(xp, P, c, kc, kmc):
    """O(c) = (k(c) - k(-c))/2, by its Hermite series for |c| <= c_right."""
    elem = P.get("elem", -1)
    if elem == 1:
        return c / 4
    if elem == 0:
        return xp.arctan2(c, xp.sqrt((1 - c) * (1 + c))) * _INV_2PI
    small = xp.abs(c) <= P["c_right"]
    cs = xp.where(small, c, 0 * c)
    return xp.where(small, cs * _horner(xp, P["o"], cs * cs, P["ho"]), (kc - kmc) / 2)


def _family_kernel(xp, P, c):
    """K(c) = E[phi(u) phi(v)], phi = a rho_beta(x) - b rho_beta(-x), unit variances."""
    a, b = P["a"], P["b"]
    kc = _rho_kernel(xp, P, c)
    if b == 0:
        return a * a * kc
    kmc = _rho_kernel(xp, P, -c)
    A, B = (a * a + b * b) * kc, 2 * a * b * kmc
    if a * b <= 0:
        return A - B
    odd = _odd_part(xp, P, c, kc, kmc)
    if a == b:
        return 4 * a * a * odd
    even = (kc + kmc) / 2
    ke = (a - b) ** 2 * even + (a + b) ** 2 * odd
    # pick, point by point, the form whose terms cancel least
    cond_e = (a - b) ** 2 * even + (a + b) ** 2 * xp.abs(odd)
    return xp.where(A + B <= cond_e, A - B, ke)


def _scaled(xp, P, cov12, var1, var2):
    """(var1 var2)^(beta/2) K(cov12 / sqrt(var1 var2)); c := 0 where a variance is 0."""
    prod = var1 * var2
    ok = prod > 0
    root = xp.sqrt(xp.where(ok, prod, 1 + 0 * prod))
    c = xp.where(ok, cov12 / root, 0 * prod)
    c = xp.clip(c, -1, 1)
    k = _family_kernel(xp, P, c)
    if P["beta"] == 0:
        return k
    if P["beta"] == 1:  # (var1 var2)^(1/2): the root already taken
        return xp.where(ok, root, 0 * prod) * k
    return xp.where(ok, prod, 0 * prod) ** (P["beta"] / 2) * k
