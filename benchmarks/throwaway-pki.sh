# Sourced by the load benchmarks: a throwaway PKI in "$work" (which the caller creates and
# removes): one CA ($work/ca.pem) that signs the server's certificate ($work/server.pem, for
# localhost and 127.0.0.1) and one machine certificate without host names ($work/machine.pem).
# Usage: source benchmarks/throwaway-pki.sh "<CA common name>"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
  -keyout "$work/ca.key" -out "$work/ca.pem" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
leaf() { # name, extensions
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" -keyout "$work/$1.key" -out "$work/$1.csr"
  printf '%s\n' "$2" >"$work/$1.ext"
  ossl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 -out "$work/$1.pem" -extfile "$work/$1.ext"
}
leaf server "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf machine "extendedKeyUsage=clientAuth"
