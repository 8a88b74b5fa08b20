"""The contact centre: staffing calculators (Erlang C and Erlang A) and, later, IVR, queues and agents."""
