#!/usr/bin/python3
"""A throw-away certificate authority for the test servers on loopback.

    from testca import make_certs
    ca_pem, cert_pem, key_pem = make_certs(directory)

makes (once; later calls reuse the files) a CA and a server certificate it
signs for DNS:localhost and IP:127.0.0.1, both P-256 and valid 30 days, in
directory.  Every TLS server of the harness (Dovecot, the SMTP sink, the
OAuth token server) serves cert_pem; clients trust ca_pem (mentord's
ca_file).  openssl is run with argument lists, never a shell.
"""

import os
import subprocess


class CertError(Exception):
    """openssl is missing or failed."""


def _run(args):
    try:
        subprocess.run(args, check=True, capture_output=True)
    except FileNotFoundError as e:
        raise CertError("%s: not installed (%s)" % (args[0], e)) from e
    except subprocess.CalledProcessError as e:
        raise CertError("%s failed (exit %d): %s" % (
            " ".join(args), e.returncode, e.stderr.decode(errors="replace").strip())) from e


def make_certs(directory):
    """Returns (ca_pem, cert_pem, key_pem), creating them when missing."""
    os.makedirs(directory, exist_ok=True)
    ca_key = os.path.join(directory, "ca.key")
    ca_pem = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "server.key")
    csr = os.path.join(directory, "server.csr")
    pem = os.path.join(directory, "server.pem")
    ext = os.path.join(directory, "server.ext")
    if not os.path.exists(pem):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        _run(["openssl", "req", "-x509"] + ec + [
            "-keyout", ca_key, "-out", ca_pem, "-days", "30",
            "-subj", "/CN=mentord test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        _run(["openssl", "req"] + ec + [
            "-keyout", key, "-out", csr, "-subj", "/CN=localhost"])
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
              "-CAcreateserial", "-out", pem, "-days", "30", "-extfile", ext])
    return ca_pem, pem, key
