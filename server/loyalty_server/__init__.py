"""Loyalty points, gift cards and store credit for Medusa stores: the gRPC server."""
