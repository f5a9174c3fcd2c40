
function spin(rec)
  while true do end
end
