"""挂号收费: the registration window (patient → slot → rules → 信用就医 pop-up or another channel → guide slip)."""
