"""The bundled demo news site (``site/``, in the shape of Vudailleurs.com) and its loopback server."""
