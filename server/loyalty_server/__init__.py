"""Loyalty points and gift cards for Medusa stores: the gRPC server."""
