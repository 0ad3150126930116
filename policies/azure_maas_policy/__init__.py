"""The azure-maas policy pack's rules and the facts they judge by (shared with the program in ``infra/``)."""
