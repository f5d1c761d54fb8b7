sh "a ${m["k"] ?: "}"} $env.X \${Y}"
