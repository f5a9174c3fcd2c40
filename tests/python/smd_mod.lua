function hello(rec)
  return 1
end
