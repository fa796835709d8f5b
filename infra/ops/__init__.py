"""Operations commands, run with PYTHONPATH=layers/shared:infra (see the Makefile)."""
