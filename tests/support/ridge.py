"""The seed-004 example table every ridge test starts from."""

SEED_CSV = "a,b,c\n1.0,0.0,2.0\n123.11,0.0,2.0\n5.5,1.0,7.0\n-3.0,2.5,1.0\n8.0,3.0,3.0\n0.5,4.0,9.0\n2.0,1.5,4.0\n9.0,0.3,8.0\n"
